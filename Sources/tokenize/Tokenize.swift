import ArgumentParser
import Shared

@main
struct Tokenize: ToolCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "(in progress)", version: scgrnVersion)
    @OptionGroup var common: CommonOptions
    func run() throws {
        common.apply()
        throw ToolError.runtime("tokenize is not built yet")
    }
}
