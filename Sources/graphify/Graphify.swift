import ArgumentParser
import Shared

@main
struct Graphify: ToolCommand {
    static let configuration = CommandConfiguration(commandName: "graphify", abstract: "(in progress)", version: scgrnVersion)
    @OptionGroup var common: CommonOptions
    func run() throws {
        common.apply()
        throw ToolError.runtime("graphify is not built yet")
    }
}
