// GeneSets: a gene-set file in GMT form (MSigDB's and Enrichr's format; the bundled Gene Ontology
// sets, models/knowledge/go_bp.gmt.gz), as the sets each dataset gene belongs to, for
// `--contrast` (Contrast.swift rates a target by the Jaccard index of its sets with those of the
// regulator's training targets).
//
// A line is `NAME<TAB>DESCRIPTION<TAB>GENE<TAB>GENE…` (ToolKit's GeneSetFile reads them). A
// dataset gene belongs to the sets that name it, symbols compared ignoring case (BEELINE
// upper-cases mouse symbols). For mouse data it also belongs to the sets that name one of its human
// orthologs (the bundled ortholog table, data/orthologs/mouse_human.tsv), so human sets such as the
// bundled GO ones serve mouse data too.

import ToolKit

struct GeneSets {
    /// Per dataset gene, the increasing numbers of the sets it belongs to.
    var members: [[Int32]]
    /// The sets read (lines with a name).
    var count: Int

    /// Dataset genes in at least one set.
    var found: Int { members.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) } }

    /// - Parameters:
    ///   - genes: the dataset's symbols.
    ///   - orthologs: for mouse data, (mouse, human) symbol pairs; a set naming the human symbol
    ///     then counts for the mouse gene too.
    ///   - label: how the note names the file (default: its path).
    /// - Throws: exit 65 for a line without a description field, or a file whose sets name no
    ///   dataset gene when `required` (else a note says so, and `found` is 0).
    static func read(_ path: String, genes: [String], orthologs: [(mouse: String, human: String)] = [],
                     label: String? = nil, required: Bool = true) throws -> GeneSets {
        // Upper-cased symbol -> the dataset genes it stands for (itself, or a mouse gene's ortholog).
        var standsFor = [String: [Int32]]()
        for (i, g) in genes.enumerated() { standsFor[g.uppercased(), default: []].append(Int32(i)) }
        if !orthologs.isEmpty {
            let byMouse = standsFor
            for (mouse, human) in orthologs {
                guard let ids = byMouse[mouse.uppercased()] else { continue }
                standsFor[human.uppercased(), default: []] += ids
            }
        }
        var members = [[Int32]](repeating: [], count: genes.count)
        let reader = try ByteReader.open(path)
        let sets = try GeneSetFile.forEachSet(reader) { set, fields in
            for field in fields {
                for gene in standsFor[upperCased(field)] ?? [] where members[Int(gene)].last != set {
                    members[Int(gene)].append(set)
                }
            }
        }
        let out = GeneSets(members: members, count: Int(sets))
        guard out.found > 0 else {
            let problem = "its \(sets) gene sets name none of the \(genes.count) dataset genes (is it for another species or symbol set?)"
            if required { throw ToolError.data(reader.name, problem) }
            Diagnostics.note("\(label ?? path): \(problem): not used")
            return out
        }
        Diagnostics.note("\(label ?? "gene sets \(path)"): \(out.found) of \(genes.count) dataset genes are in one of its \(sets) sets"
                         + (orthologs.isEmpty ? "" : " (mouse genes also through their human orthologs)"))
        return out
    }

    /// `String.uppercased()` of a UTF-8 field, with a fast path for ASCII (gene symbols nearly
    /// always are): reading the bundled sets' 1.5 million symbols took 1.3 s through `uppercased()`.
    static func upperCased(_ field: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        guard field.allSatisfy({ $0 < 0x80 }) else { return String(decoding: field, as: UTF8.self).uppercased() }
        return String(unsafeUninitializedCapacity: field.count) { out in
            for (i, b) in field.enumerated() { out[i] = b >= 0x61 && b <= 0x7A ? b - 0x20 : b }
            return field.count
        }
    }
}
