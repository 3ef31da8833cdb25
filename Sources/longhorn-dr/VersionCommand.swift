import ArgumentParser
import Backupstore
import DRCore

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version of longhorn-dr and of the config format it reads.")

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() {
        if json {
            print(
                #"{"version":"\#(BuildInfo.version)","configApiVersion":"\#(ConfigKind.apiVersion)","sha512":"\#(SHA512Engine.preferred.rawValue)"}"#)
        } else {
            print("longhorn-dr \(BuildInfo.version)")
            print("config apiVersion: \(ConfigKind.apiVersion)")
            // Which SHA-512 verify and assure use: it sets their speed (docs/backup-verify.md).
            print("sha512: \(SHA512Engine.preferred.summary)")
        }
    }
}
