// BundledData: where the tools find the data that ships with scgrn (the default model, the
// prior networks, the ortholog table, the knowledge gene table), wherever they were built or installed.
//
// A relative path such as "priors/collectri_human.tsv" is looked up, first match wins, in:
//   1. $SCGRN_DATA/<path>                      the user's override (a folder laid out like the repository)
//   2. <exe>/../share/scgrn/<path>             after `make install PREFIX=…` (<prefix>/bin/<tool>)
//   3. <ancestor>/<path> for the executable folder's ancestors, nearest first, up to
//      `buildTreeDepth` levels: a build tree (.build/<triple>/release/<tool> is three levels
//      below the repository, a --scratch-path build one more)
// where <exe> is the folder of the running executable (/proc/self/exe, links resolved).

import Foundation

public enum BundledData {
    /// The environment variable that overrides where bundled data is looked up.
    public static let environmentVariable = "SCGRN_DATA"
    /// How many of the executable folder's ancestors are searched.
    public static let buildTreeDepth = 5

    /// The folders searched, in order (see the file header).
    public static func searchRoots(environment: [String: String] = ProcessInfo.processInfo.environment,
                                   executableFolder: String? = BundledData.executableFolder()) -> [String] {
        var roots = [String]()
        if let env = environment[environmentVariable], !env.isEmpty { roots.append(env) }
        if let exe = executableFolder {
            let url = URL(fileURLWithPath: exe)
            roots.append(url.deletingLastPathComponent().appendingPathComponent("share/scgrn").path)
            var ancestor = url
            for _ in 0..<buildTreeDepth {
                ancestor = ancestor.deletingLastPathComponent()
                roots.append(ancestor.path)
                if ancestor.path == "/" { break }
            }
        }
        return roots
    }

    /// The first existing `<root>/<relativePath>`, or nil.
    public static func locate(_ relativePath: String) -> String? {
        for root in searchRoots() {
            let candidate = (root as NSString).appendingPathComponent(relativePath)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Like `locate`, but a missing file is a runtime error (exit 1) that says where it looked
    /// and how to point the tools elsewhere; `what` names the data ("the default model").
    public static func require(_ relativePath: String, what: String) throws -> String {
        if let path = locate(relativePath) { return path }
        let roots = searchRoots().joined(separator: ", ")
        throw ToolError.runtime("cannot find \(what) (\(relativePath)) in \(roots.isEmpty ? "no folder" : roots); "
            + "set \(environmentVariable) to the folder that holds it, or give the file explicitly")
    }

    /// The folder of the running executable, links resolved; nil where it cannot be told.
    public static func executableFolder() -> String? {
        let link = "/proc/self/exe"
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link) {
            return URL(fileURLWithPath: target).resolvingSymlinksInPath().deletingLastPathComponent().path
        }
        guard let arg0 = CommandLine.arguments.first, arg0.contains("/") else { return nil }
        return URL(fileURLWithPath: arg0).resolvingSymlinksInPath().deletingLastPathComponent().path
    }
}
