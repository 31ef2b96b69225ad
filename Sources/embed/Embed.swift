import ArgumentParser
import Shared

@main
struct Embed: ToolCommand {
    static let configuration = CommandConfiguration(commandName: "embed", abstract: "(in progress)", version: scgrnVersion)
    @OptionGroup var common: CommonOptions
    func run() throws {
        common.apply()
        throw ToolError.runtime("embed is not built yet")
    }
}
