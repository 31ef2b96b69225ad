// GeneName: how every tool names a gene (the node of a network).

/// A dataset gene: its symbol and, where known, its stable id (Ensembl).
public struct GeneName: Equatable, Hashable {
    public var symbol: String
    public var id: String
    public init(symbol: String, id: String = "") { self.symbol = symbol; self.id = id }
}
