import ArgumentParser
import DRCore
import Foundation

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check configuration files.",
        subcommands: [Validate.self])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check exercise and restore configs; every problem is reported with its field path and line.",
            discussion: """
                The kind of each file is read from its `kind:` field (ExerciseConfig or RestoreConfig); \
                a Kubernetes ConfigMap whose data key `restore.yaml` holds a restore config is accepted too. \
                Exit status: 0 when every file is valid, 2 when any is not.
                """)

        @Argument(help: "The files to check.")
        var files: [String]

        @Option(help: "Treat the files as this kind (exercise or restore) instead of reading `kind:`.")
        var kind: ConfigKind?

        @Flag(help: "Print a JSON summary instead of text.")
        var json = false

        func run() throws {
            let checks = ConfigFileCheck.check(files, as: kind)
            if json {
                print(ConfigFileCheck.json(checks))
            } else {
                for check in checks {
                    if let error = check.error {
                        Terminal.error(error.description)
                    } else if let kind = check.kind {
                        print("\(check.file): valid \(kind.documentKind)")
                    }
                }
            }
            if checks.contains(where: { $0.error != nil }) { throw ExitStatusError(status: .usage) }
        }
    }
}

extension ConfigKind: ExpressibleByArgument {}
