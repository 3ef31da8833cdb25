import Foundation

/// `config validate`: each file read, its kind found and every problem collected.
public struct ConfigFileCheck: Sendable {
    public var file: String
    /// The kind it was checked as, when it is valid.
    public var kind: ConfigKind?
    public var error: ConfigError?

    /// Checks `files`, each as `expected` or as its own `kind:` says.
    public static func check(_ files: [String], as expected: ConfigKind?) -> [ConfigFileCheck] {
        files.map { file in
            do throws(ConfigError) {
                let loaded = try ConfigLoader.load(try ConfigLoader.readFile(file), file: file, expected: expected)
                return ConfigFileCheck(file: file, kind: loaded.kind, error: nil)
            } catch {
                return ConfigFileCheck(file: file, kind: nil, error: error)
            }
        }
    }

    /// The checks as a JSON summary: every file, whether it is valid, and each issue's path,
    /// line, column and hint.
    public static func json(_ checks: [ConfigFileCheck]) -> String {
        let items: [[String: Any]] = checks.map { check in
            var item: [String: Any] = ["file": check.file, "valid": check.error == nil]
            if let kind = check.kind { item["kind"] = kind.documentKind }
            if let error = check.error {
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

extension ConfigLoader {
    /// Reads a config file as UTF-8; I/O failures become a config error that names the file.
    public static func readFile(_ path: String) throws(ConfigError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ConfigError(
                file: path,
                issues: [
                    ConfigIssue(
                        path: "", message: exists ? "cannot be read (check its permissions)" : "does not exist",
                        hint: exists ? nil : "give the path of a config file, e.g. examples/exercise.yaml")
                ])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, issues: [ConfigIssue(path: "", message: "is not UTF-8 text")])
        }
        return text
    }
}
