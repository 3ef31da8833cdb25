import Foundation
import Yams

/// Walks a composed YAML document field by field, converting values and collecting every problem
/// with its field path and line, instead of stopping at the first one as `Decodable` would.
final class ConfigReader {
    private(set) var issues: [ConfigIssue] = []
    /// Added to YAML line numbers when the document was embedded in another file (a ConfigMap key).
    let lineOffset: Int

    init(lineOffset: Int = 0) { self.lineOffset = lineOffset }

    func report(_ path: String, at node: Node?, _ message: String, hint: String? = nil) {
        let mark = node?.mark
        issues.append(
            ConfigIssue(
                path: path, line: mark.map { $0.line + lineOffset }, column: mark?.column,
                message: message, hint: hint))
    }

    /// Parses YAML text into a node, reporting malformed YAML with its line.
    func compose(_ text: String) -> Node? {
        do {
            guard let root = try Yams.compose(yaml: text) else {
                report("", at: nil, "expected a YAML mapping, found an empty document")
                return nil
            }
            return root
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                issues.append(
                    ConfigIssue(
                        path: "", line: mark.line + lineOffset, column: mark.column, message: "malformed YAML: \(problem)"))
            case .duplicatedKeysInMapping(let duplicates, let context):
                issues.append(
                    ConfigIssue(
                        path: "", line: context.mark.line + lineOffset, column: context.mark.column,
                        message: "duplicate key(s) \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping",
                        hint: "a key may appear only once; YAML would silently keep one of them"))
            default:
                report("", at: nil, "malformed YAML: \(error)")
            }
            return nil
        } catch {
            report("", at: nil, "malformed YAML: \(error)")
            return nil
        }
    }

    /// A human description of a node's kind and value, for "found ..." messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if scalar.style == .plain || scalar.style == .any {
                if scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" { return "null" }
                if Int(scalar.string) != nil { return "the number \(scalar.string)" }
                if ["true", "false", "yes", "no", "on", "off"].contains(scalar.string.lowercased()) {
                    return "the boolean-like \(scalar.string)"
                }
            }
            return "the string \"\(scalar.string)\""
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null"
    }
}

/// A mapping at a known path, with typed accessors that report problems to the reader.
struct ConfigMapping {
    let reader: ConfigReader
    let path: String
    let node: Node
    private let pairs: [(key: String, keyNode: Node, value: Node)]

    /// Wraps `node` if it is a mapping; otherwise reports what was found and returns nil.
    init?(_ node: Node, at path: String, reader: ConfigReader) {
        guard case .mapping(let mapping) = node else {
            reader.report(path, at: node, "expected a mapping, found \(ConfigReader.describe(node))")
            return nil
        }
        self.reader = reader
        self.path = path
        self.node = node
        var pairs: [(String, Node, Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                reader.report(path, at: key, "expected a plain key, found \(ConfigReader.describe(key))")
                continue
            }
            pairs.append((scalar.string, key, value))
        }
        self.pairs = pairs.map { (key: $0.0, keyNode: $0.1, value: $0.2) }
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    var keys: [String] { pairs.map(\.key) }

    func has(_ key: String) -> Bool { value(key) != nil }

    /// The raw node of a key, nil when absent or explicitly null.
    func value(_ key: String) -> Node? {
        guard let node = pairs.first(where: { $0.key == key })?.value, !ConfigReader.isNull(node) else { return nil }
        return node
    }

    /// Reports every key not in `known`, with a did-you-mean where one is close.
    func rejectUnknownKeys(_ known: [String]) {
        for pair in pairs where !known.contains(pair.key) {
            let suggestion = EditDistance.suggestion(for: pair.key, among: known)
            let hint =
                suggestion.map { "did you mean '\($0)'?" }
                ?? "known keys here: \(known.joined(separator: ", "))"
            reader.report(childPath(pair.key), at: pair.keyNode, "unknown key '\(pair.key)'", hint: hint)
        }
    }

    // MARK: - Typed values

    func string(_ key: String, required: Bool = false) -> String? {
        guard let node = value(key) else {
            if required { reader.report(childPath(key), at: self.node, "is required but missing") }
            return nil
        }
        guard case .scalar(let scalar) = node else {
            reader.report(childPath(key), at: node, "expected a string, found \(ConfigReader.describe(node))")
            return nil
        }
        if scalar.string.trimmingCharacters(in: .whitespaces).isEmpty {
            reader.report(childPath(key), at: node, "expected a non-empty string, found an empty one")
            return nil
        }
        return scalar.string
    }

    func int(_ key: String, range: ClosedRange<Int>) -> Int? {
        guard let node = value(key) else { return nil }
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
            let number = Int(scalar.string)
        else {
            reader.report(childPath(key), at: node, "expected a whole number, found \(ConfigReader.describe(node))")
            return nil
        }
        guard range.contains(number) else {
            reader.report(childPath(key), at: node, "expected a number from \(range.lowerBound) to \(range.upperBound), found \(number)")
            return nil
        }
        return number
    }

    func bool(_ key: String) -> Bool? {
        guard let node = value(key) else { return nil }
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
            let flag = ["true": true, "false": false][scalar.string]
        else {
            reader.report(childPath(key), at: node, "expected true or false, found \(ConfigReader.describe(node))")
            return nil
        }
        return flag
    }

    /// A positive duration such as `90s` or `10m`.
    func duration(_ key: String) -> Duration? {
        guard let node = value(key) else { return nil }
        let found = ConfigReader.describe(node)
        guard case .scalar(let scalar) = node, let duration = DurationText.parse(scalar.string) else {
            let hint = (node.scalar.flatMap { Int($0.string) }).map { "add a unit, e.g. \($0)s or \($0)m" }
            reader.report(childPath(key), at: node, "expected a duration like 90s, 10m or 1h30m, found \(found)", hint: hint)
            return nil
        }
        guard duration > .zero else {
            reader.report(childPath(key), at: node, "expected a positive duration, found \(scalar.string)")
            return nil
        }
        return duration
    }

    /// A positive byte quantity such as `1Gi`.
    func quantity(_ key: String) -> ByteQuantity? {
        guard let node = value(key) else { return nil }
        guard case .scalar(let scalar) = node, let quantity = ByteQuantity(parsing: scalar.string) else {
            reader.report(childPath(key), at: node, "expected a size like 1Gi, 512Mi or 1073741824, found \(ConfigReader.describe(node))")
            return nil
        }
        guard quantity.bytes > 0 else {
            reader.report(childPath(key), at: node, "expected a size greater than zero, found \(scalar.string)")
            return nil
        }
        return quantity
    }

    /// One of a fixed set of words.
    func choice<T: RawRepresentable>(_ key: String, of type: T.Type) -> T? where T: CaseIterable, T.RawValue == String {
        guard let text = string(key) else { return nil }
        if let value = T(rawValue: text) { return value }
        let allowed = T.allCases.map(\.rawValue)
        let hint = EditDistance.suggestion(for: text, among: allowed).map { "did you mean '\($0)'?" }
        reader.report(childPath(key), at: value(key), "expected one of \(allowed.joined(separator: ", ")), found \"\(text)\"", hint: hint)
        return nil
    }

    func mapping(_ key: String, required: Bool = false) -> ConfigMapping? {
        guard let node = value(key) else {
            if required { reader.report(childPath(key), at: self.node, "is required but missing") }
            return nil
        }
        return ConfigMapping(node, at: childPath(key), reader: reader)
    }

    /// The items of a list with their paths (`key[0]`, `key[1]`...).
    func list(_ key: String) -> [(path: String, node: Node)]? {
        guard let node = value(key) else { return nil }
        guard case .sequence(let sequence) = node else {
            reader.report(childPath(key), at: node, "expected a list, found \(ConfigReader.describe(node))")
            return nil
        }
        return sequence.enumerated().map { ("\(childPath(key))[\($0.offset)]", $0.element) }
    }

    /// A command as an argument array. A single string is refused: splitting it would need a
    /// shell's quoting rules, and running it through a shell is what we avoid.
    func command(_ key: String, required: Bool = false) -> [String]? {
        guard let node = value(key) else {
            if required { reader.report(childPath(key), at: self.node, "is required but missing") }
            return nil
        }
        if case .scalar(let scalar) = node {
            let words = scalar.string.split(separator: " ").map(String.init)
            reader.report(
                childPath(key), at: node, "expected an argument list, found \(ConfigReader.describe(node))",
                hint: "write it as a list, e.g. [\(words.joined(separator: ", "))]; commands never go through a shell")
            return nil
        }
        guard let items = list(key) else { return nil }
        var arguments: [String] = []
        for item in items {
            guard case .scalar(let scalar) = item.node else {
                reader.report(item.path, at: item.node, "expected a string argument, found \(ConfigReader.describe(item.node))")
                return nil
            }
            arguments.append(scalar.string)
        }
        if arguments.isEmpty || arguments[0].trimmingCharacters(in: .whitespaces).isEmpty {
            reader.report(childPath(key), at: node, "expected a command (a non-empty list whose first item is the program), found an empty one")
            return nil
        }
        return arguments
    }

    /// Checks a name against a naming rule and reports it if broken.
    func name(_ key: String, required: Bool = false, rule: (String) -> String?) -> String? {
        guard let text = string(key, required: required) else { return nil }
        if let problem = rule(text) {
            reader.report(childPath(key), at: value(key), "\"\(text)\" is not a valid name: \(problem)")
            return nil
        }
        return text
    }
}
