/// One problem found in a configuration file, located by field path and, where known, line.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// The field path, e.g. `volumes[1].pvc.name`; empty for the document itself.
    public var path: String
    /// 1-based line and column in the file, when the YAML parser could tell.
    public var line: Int?
    public var column: Int?
    /// What was expected and what was found.
    public var message: String
    public var hint: String?

    public init(path: String, line: Int? = nil, column: Int? = nil, message: String, hint: String? = nil) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var text = path.isEmpty ? message : "\(path): \(message)"
        if let hint { text += "\n    hint: \(hint)" }
        return text
    }
}

/// Every problem of one configuration file, reported together so a user fixes them in one go.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var issues: [ConfigIssue]

    public init(file: String, issues: [ConfigIssue]) {
        self.file = file
        self.issues = issues
    }

    public var description: String {
        let count = issues.count == 1 ? "1 problem" : "\(issues.count) problems"
        var lines = ["\(file): \(count)"]
        for issue in issues {
            var location = file
            if let line = issue.line {
                location += ":\(line)"
                if let column = issue.column { location += ":\(column)" }
            }
            lines.append("  \(location): \(issue)")
        }
        return lines.joined(separator: "\n")
    }

    /// The CLI's view of this error: a usage error (exit 2), since nothing was touched.
    public var asDRError: DRError {
        DRError(.usage, subject: "config \(file)", detail: description, hint: "fix the fields above and run `longhorn-dr config validate \(file)` again")
    }
}
