import ArgumentParser
import Shared

@main
struct Score: ToolCommand {
    static let configuration = CommandConfiguration(commandName: "score", abstract: "(in progress)", version: scgrnVersion)
    @OptionGroup var common: CommonOptions
    func run() throws {
        common.apply()
        throw ToolError.runtime("score is not built yet")
    }
}
