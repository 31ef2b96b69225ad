// PriorChoice: which prior network graphify trains on.
//
//   --prior FILE                 that file
//   --prior collectri|dorothea|trrust
//                                the bundled network of that name for the data's species
//                                (priors/<name>_<species>.tsv; a file of that name wins over the built-in)
//   no --prior                   the bundled default for the data's species: CollecTRI
//                                (priors/README.md says why)
// The species is --species, else the stream's HEAD metadata `species` (tokenize --species), else
// told from the gene symbols: the ortholog table (data/orthologs/mouse_human.tsv) lists symbols
// that only mouse has and symbols that only human has (compared ignoring case, since BEELINE
// upper-cases mouse symbols); the species with more of its own symbols among the dataset genes
// wins, and a note says so. A tie (e.g. a handful of genes known to both) is a usage error asking
// for --species or --prior.

import Foundation
import ToolKit

enum Species: String, CaseIterable {
    case human, mouse

    /// Reads a species name as tools and users spell it (human, Homo sapiens, hsapiens, 9606; mouse, …).
    init?(name: String) {
        let s = name.lowercased().replacingOccurrences(of: "_", with: " ").trimmingCharacters(in: .whitespaces)
        switch s {
        case "human", "homo sapiens", "hsapiens", "h. sapiens", "hs", "9606": self = .human
        case "mouse", "mus musculus", "mmusculus", "m. musculus", "mm", "10090": self = .mouse
        default: return nil
        }
    }
}

/// The prior file to read and how to name it in messages and in the MODEL's metadata.
struct PriorChoice {
    /// The path to read.
    var path: String
    /// The name recorded: the path as given, or `collectri_human (bundled)`.
    var name: String
    /// The species whose bundled network it is (nil for a file).
    var species: Species?

    static let builtIn = ["collectri", "dorothea", "trrust"]
    static let defaultName = "collectri"

    /// Resolves --prior (and --species) against the stream's HEAD.
    /// - Throws: `ToolError.usage` (64) for an unknown species or one that cannot be told;
    ///   `ToolError.runtime` (1) when a bundled file cannot be found.
    /// `orthologs` reads the ortholog table, if the species must be told from the symbols.
    static func resolve(prior: String?, species speciesOption: String?, metadataSpecies: String?,
                        genes: [GeneName], orthologs: () throws -> [(mouse: String, human: String)] = { try Species.orthologs() }) throws -> PriorChoice {
        if let prior, FileManager.default.fileExists(atPath: prior) || prior == "-" || !builtIn.contains(prior.lowercased()) {
            return PriorChoice(path: prior, name: prior)
        }
        let name = prior?.lowercased() ?? defaultName
        let species = try Species.resolve(option: speciesOption, metadata: metadataSpecies, genes: genes, orthologs: orthologs)
        let file = "\(name)_\(species.rawValue)"
        let path = try BundledData.require("priors/\(file).tsv", what: "the bundled \(name) prior for \(species.rawValue)")
        if prior == nil {
            Diagnostics.note("no --prior: training on the bundled \(file) network (priors/README.md; --prior FILE or "
                             + "--prior \(builtIn.joined(separator: "|")) chooses another)")
        }
        return PriorChoice(path: path, name: "\(file) (bundled)", species: species)
    }
}

extension Species {
    /// The bundled ortholog table (data/orthologs/README.md).
    static let orthologTable = "data/orthologs/mouse_human.tsv"

    /// The data's species: --species, else the stream's, else told from the gene symbols.
    /// - Throws: `ToolError.usage` (64) for a species other than human or mouse, or one that cannot be told.
    static func resolve(option: String?, metadata: String?, genes: [GeneName],
                        orthologs: () throws -> [(mouse: String, human: String)] = { try Species.orthologs() }) throws -> Species {
        if let option {
            guard let s = Species(name: option) else {
                throw ToolError.usage("--species: '\(option)' is neither human nor mouse")
            }
            return s
        }
        if let metadata {
            guard let s = Species(name: metadata) else {
                throw ToolError.usage("the stream's species '\(excerpt(metadata))' is neither human nor mouse: give --species human|mouse, or --prior FILE")
            }
            return s
        }
        return try detect(genes, orthologs: orthologs)
    }

    /// Tells human from mouse by the dataset's gene symbols (see the file header), with a note.
    static func detect(_ genes: [GeneName], orthologs: () throws -> [(mouse: String, human: String)] = { try Species.orthologs() }) throws -> Species {
        let (mouseOnly, humanOnly) = speciesSymbols(try orthologs())
        let (m, h) = count(genes, mouseOnly: mouseOnly, humanOnly: humanOnly)
        guard m != h else {
            throw ToolError.usage("cannot tell the species from the \(genes.count) gene symbols (\(m) mouse-only, \(h) human-only "
                                  + "symbols): give --species human|mouse or --prior FILE")
        }
        let species: Species = m > h ? .mouse : .human
        Diagnostics.note("the stream does not record its species; the gene symbols look \(species.rawValue) "
                         + "(\(m) mouse-only, \(h) human-only symbols of the ortholog table); --species overrides")
        return species
    }

    /// How many dataset symbols are mouse-only and human-only (ignoring case).
    static func count(_ genes: [GeneName], mouseOnly: Set<String>, humanOnly: Set<String>) -> (mouse: Int, human: Int) {
        var m = 0, h = 0
        for g in Set(genes.map { $0.symbol.uppercased() }) {
            if mouseOnly.contains(g) { m += 1 } else if humanOnly.contains(g) { h += 1 }
        }
        return (m, h)
    }

    /// The upper-cased symbols only one species has, of the ortholog pairs.
    static func speciesSymbols(_ pairs: [(mouse: String, human: String)]) -> (mouseOnly: Set<String>, humanOnly: Set<String>) {
        let mouse = Set(pairs.map(\.mouse)), human = Set(pairs.map(\.human))
        return (mouse.subtracting(human), human.subtracting(mouse))
    }

    /// The upper-cased (mouse, human) symbol pairs of a `mouse<TAB>human[<TAB>…]` ortholog table
    /// (`#` comment lines; the bundled one unless `path` is given).
    static func orthologs(_ path: String? = nil) throws -> [(mouse: String, human: String)] {
        let reader = try ByteReader.open(try path ?? BundledData.require(orthologTable, what: "the ortholog table"))
        var pairs = [(mouse: String, human: String)]()
        while let line = try reader.nextLine() {
            if line.isEmpty || line[0] == UInt8(ascii: "#") { continue }
            let fields = line.split(separator: 0x09, maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count >= 2 else { continue }
            pairs.append((String(decoding: fields[0], as: UTF8.self).uppercased(), String(decoding: fields[1], as: UTF8.self).uppercased()))
        }
        return pairs
    }
}
