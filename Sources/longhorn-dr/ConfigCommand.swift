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
            var results: [(file: String, kind: ConfigKind?, error: ConfigError?)] = []
            for file in files {
                do {
                    let text = try readConfigFile(file)
                    let loaded = try ConfigLoader.load(text, file: file, expected: kind)
                    results.append((file, loaded.kind, nil))
                } catch {
                    results.append((file, nil, error))
                }
            }
            if json {
                print(Self.json(results))
            } else {
                for result in results {
                    if let error = result.error {
                        Terminal.error(error.description)
                    } else if let kind = result.kind {
                        print("\(result.file): valid \(kind.documentKind)")
                    }
                }
            }
            if results.contains(where: { $0.error != nil }) { throw ExitStatusError(status: .usage) }
        }

        private static func json(_ results: [(file: String, kind: ConfigKind?, error: ConfigError?)]) -> String {
            let items: [[String: Any]] = results.map { result in
                var item: [String: Any] = ["file": result.file, "valid": result.error == nil]
                if let kind = result.kind { item["kind"] = kind.documentKind }
                if let error = result.error {
                    item["issues"] = error.issues.map { issue -> [String: Any] in
                        var entry: [String: Any] = ["path": issue.path, "message": issue.message]
                        if let line = issue.line { entry["line"] = line }
                        if let column = issue.column { entry["column"] = column }
                        if let hint = issue.hint { entry["hint"] = hint }
                        return entry
                    }
                }
                return item
            }
            let data = (try? JSONSerialization.data(withJSONObject: ["files": items], options: [.prettyPrinted, .sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }
}

extension ConfigKind: ExpressibleByArgument {}

/// Reads a config file as UTF-8, turning I/O failures into a config error that names the file.
func readConfigFile(_ path: String) throws(ConfigError) -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        let exists = FileManager.default.fileExists(atPath: path)
        throw ConfigError(file: path, issues: [ConfigIssue(
            path: "", message: exists ? "cannot be read (check its permissions)" : "does not exist",
            hint: exists ? nil : "give the path of a config file, e.g. examples/exercise.yaml")])
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw ConfigError(file: path, issues: [ConfigIssue(path: "", message: "is not UTF-8 text")])
    }
    return text
}
