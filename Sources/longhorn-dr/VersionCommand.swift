import ArgumentParser
import DRCore

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version of longhorn-dr and of the config format it reads.")

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() {
        if json {
            print(#"{"version":"\#(BuildInfo.version)","configApiVersion":"\#(ConfigKind.apiVersion)"}"#)
        } else {
            print("longhorn-dr \(BuildInfo.version)")
            print("config apiVersion: \(ConfigKind.apiVersion)")
        }
    }
}
