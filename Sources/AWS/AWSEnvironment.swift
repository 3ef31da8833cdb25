import Foundation

/// The outside world the credential chain reads: environment variables and files.
///
/// Why injected: tests hand in a dictionary and an in-memory file map, so resolving credentials is a
/// pure function of its inputs and never touches the developer's real `~/.aws`.
public struct AWSEnvironment: Sendable {
    public var variables: [String: String]
    /// Reads a whole text file. Returns `nil` when the file does not exist; throws for any other
    /// failure (permissions, not UTF-8), which the chain reports as that source's reason.
    public var readFile: @Sendable (String) throws -> String?

    public init(variables: [String: String], readFile: @escaping @Sendable (String) throws -> String?) {
        self.variables = variables
        self.readFile = readFile
    }

    /// An environment with the given variables and files held in memory (path → contents).
    public static func inMemory(variables: [String: String] = [:], files: [String: String] = [:]) -> AWSEnvironment {
        AWSEnvironment(variables: variables, readFile: { path in files[path] })
    }

    /// The running process's environment and file system.
    public static func process() -> AWSEnvironment {
        AWSEnvironment(
            variables: ProcessInfo.processInfo.environment,
            readFile: { path in
                guard FileManager.default.fileExists(atPath: path) else { return nil }
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                guard let text = String(data: data, encoding: .utf8) else {
                    throw AWSError(code: .invalidRequest, subject: path, detail: "the file is not UTF-8 text")
                }
                return text
            })
    }

    /// A variable's value, or `nil` when it is unset or blank (a blank value means "not configured"
    /// to every AWS SDK).
    func value(_ name: String) -> String? {
        guard let raw = variables[name] else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Expands a leading `~` to `$HOME`.
    /// - Returns: `nil` when the path needs `$HOME` and it is not set.
    func expandingHome(_ path: String) -> String? {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        guard let home = value("HOME") else { return nil }
        return home + path.dropFirst()
    }
}
