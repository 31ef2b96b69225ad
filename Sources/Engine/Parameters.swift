// Parameters: named trainable tensors, and the protocol layers adopt to list theirs.
//
// Names are dotted paths ("encoder.layer1.weight"), unique within a model; checkpoints and
// optimiser state are keyed by them, in the order listed.

/// Something that owns trainable tensors.
public protocol ParameterOwner: AnyObject {
    /// The owned parameters, names unique within the owner, in a fixed order.
    var parameters: [NamedParameter] { get }
}

/// A trainable tensor and its name.
public struct NamedParameter {
    public let name: String
    public let tensor: Tensor
    public init(_ name: String, _ tensor: Tensor) { self.name = name; self.tensor = tensor }
}

extension ParameterOwner {
    /// The parameters with `prefix.` put before each name (to nest layers in a model).
    public func parameters(prefixed prefix: String) -> [NamedParameter] {
        parameters.map { NamedParameter(prefix.isEmpty ? $0.name : prefix + "." + $0.name, $0.tensor) }
    }

    /// Drops every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.tensor.zeroGrad() } }

    /// The number of trainable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.tensor.count } }
}

extension Array where Element == NamedParameter {
    /// Drops every parameter's gradient.
    public func zeroGrad() { for p in self { p.tensor.zeroGrad() } }
}
