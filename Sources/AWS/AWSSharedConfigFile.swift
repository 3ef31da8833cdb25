/// The INI dialect of `~/.aws/credentials` and `~/.aws/config`.
///
/// Rules kept from the AWS CLI: `#` and `;` start comment lines; keys are case-insensitive; in the config
/// file a profile's section is `[profile name]` except `[default]`; indented lines under a key with an
/// empty value (`s3 =` followed by `  addressing_style = path`) form a nested block, which we skip because
/// nothing here reads it.
struct AWSSharedConfigFile: Sendable, Hashable {
    /// Section name (as written, with inner whitespace collapsed) → key (lowercased) → value.
    private(set) var sections: [String: [String: String]] = [:]

    init(parsing text: String) {
        var current: String?
        var inNestedBlock = false
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") {
                continue
            }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = line.dropFirst().dropLast().split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                current = name
                inNestedBlock = false
                if sections[name] == nil {
                    sections[name] = [:]
                }
                continue
            }
            guard let section = current else { continue }
            let indented = rawLine.first == " " || rawLine.first == "\t"
            if indented && inNestedBlock {
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingWhitespace().lowercased()
            let value = line[line.index(after: equals)...].trimmingWhitespace()
            inNestedBlock = value.isEmpty
            if !value.isEmpty {
                sections[section, default: [:]][key] = value
            }
        }
    }

    /// The values of profile `name` in a credentials file, where sections are bare profile names.
    func credentialsProfile(_ name: String) -> [String: String]? {
        sections[name]
    }

    /// The values of profile `name` in a config file: `[profile name]`, or `[default]` for the default.
    func configProfile(_ name: String) -> [String: String]? {
        if name == "default" {
            let plain = sections["default"]
            let prefixed = sections["profile default"]
            if plain == nil && prefixed == nil { return nil }
            return (plain ?? [:]).merging(prefixed ?? [:]) { _, new in new }
        }
        return sections["profile \(name)"]
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (also `\r`, for files edited on Windows).
    func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(Substring(scalars))
    }
}
