// GeneSetFile: the lines of a gene-set file in GMT form (MSigDB's and Enrichr's format):
// `NAME<TAB>DESCRIPTION<TAB>GENE<TAB>GENE…`, gzip-compressed or not. Blank lines and lines
// starting with `#` are skipped; empty gene fields are ignored. graphify's `--contrast` reads the
// bundled Gene Ontology sets (models/knowledge/go_bp.gmt.gz) and users' files through it.

public enum GeneSetFile {
    /// Calls `body` with each set's number (0, 1, … in file order) and its gene fields, which are
    /// valid during the call only. The sets are streamed, never held.
    /// - Returns: the number of sets.
    /// - Throws: exit 65 naming the file and line for a line without a description field.
    @discardableResult
    public static func forEachSet(_ reader: ByteReader,
                                  _ body: (Int32, [Slice<UnsafeBufferPointer<UInt8>>]) throws -> Void) throws -> Int32 {
        var sets: Int32 = 0
        while let line = try reader.nextLine() {
            if line.isEmpty || line[0] == UInt8(ascii: "#") { continue }
            let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
            guard fields.count >= 2, !fields[0].isEmpty else {
                throw ToolError.badInput(file: reader.name, line: reader.lineNumber,
                                         message: "not a gene set line (NAME<TAB>DESCRIPTION<TAB>GENE…): '\(excerpt(bytes: line))'")
            }
            guard sets < Int32.max else { throw ToolError.data(reader.name, "more than \(Int32.max) gene sets") }
            try body(sets, fields.dropFirst(2).filter { !$0.isEmpty })
            sets += 1
        }
        return sets
    }
}
