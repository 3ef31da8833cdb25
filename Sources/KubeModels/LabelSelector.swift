import Foundation

/// A parsed Kubernetes label selector (`app=a,tier!=x`, `env in (a,b)`, `!k`, ...): an AND of
/// requirements, matched against an object's `metadata.labels`.
///
/// Parsing follows `k8s.io/apimachinery/pkg/labels`: the same tokens, the same key and value
/// validation, and the same error texts (so a simulator can return them in a 400), plus the
/// position of the failure for logs.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    /// One condition on one label key. `values` is sorted and without duplicates.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public let key: String
        public let `operator`: Operator
        public let values: [String]

        /// - Throws: `KubeModelsError` (`.labelSelectorSyntax`) when the key or a value is not a
        ///   valid label key/value, or the number of values does not fit the operator.
        public init(key: String, operator op: Operator, values: [String] = []) throws(KubeModelsError) {
            if let problem = LabelSelector.labelKeyProblems(key) {
                throw LabelSelector.requirementError("key: Invalid value: \(KubeStatus.goQuoted(key)): \(problem)")
            }
            let unique = Array(Set(values)).sorted()
            switch op {
            case .in, .notIn:
                if unique.isEmpty {
                    throw LabelSelector.requirementError(
                        "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty")
                }
            case .equals, .doubleEquals, .notEquals:
                if unique.count != 1 {
                    throw LabelSelector.requirementError(
                        "values: Invalid value: \(JSONValue.array(unique.map(JSONValue.string)).jsonText): exact-match compatibility requires one single value"
                    )
                }
            case .exists, .doesNotExist:
                if !unique.isEmpty {
                    throw LabelSelector.requirementError(
                        "values: Invalid value: \(JSONValue.array(unique.map(JSONValue.string)).jsonText): values set must be empty for exists and does not exist"
                    )
                }
            case .greaterThan, .lessThan:
                if unique.count != 1 {
                    throw LabelSelector.requirementError(
                        "values: Invalid value: \(JSONValue.array(unique.map(JSONValue.string)).jsonText): for 'Gt', 'Lt' operators, exactly one value is required"
                    )
                }
                if Int64(unique[0]) == nil {
                    throw LabelSelector.requirementError(
                        "values[0]: Invalid value: \(KubeStatus.goQuoted(unique[0])): for 'Gt', 'Lt' operators, the value must be an integer"
                    )
                }
            }
            for (index, value) in unique.enumerated() {
                if let problem = LabelSelector.labelValueProblems(value) {
                    throw LabelSelector.requirementError(
                        "values[\(index)][\(key)]: Invalid value: \(KubeStatus.goQuoted(value)): \(problem)")
                }
            }
            self.key = key
            self.operator = op
            self.values = unique
        }

        /// `!=` and `notin` match objects that lack the key, as in Kubernetes.
        public func matches(_ labels: [String: String]) -> Bool {
            let actual = labels[key]
            switch self.operator {
            case .equals, .doubleEquals, .in:
                guard let actual else { return false }
                return values.contains(actual)
            case .notEquals, .notIn:
                guard let actual else { return true }
                return !values.contains(actual)
            case .exists: return actual != nil
            case .doesNotExist: return actual == nil
            case .greaterThan, .lessThan:
                guard let actual, let have = Int64(actual), let bound = values.first.flatMap({ Int64($0) }) else {
                    return false
                }
                return self.operator == .greaterThan ? have > bound : have < bound
            }
        }

        public var description: String {
            switch self.operator {
            case .exists: key
            case .doesNotExist: "!\(key)"
            case .equals, .doubleEquals, .notEquals: "\(key)\(self.operator.rawValue)\(values.first ?? "")"
            case .in: "\(key) in (\(values.joined(separator: ",")))"
            case .notIn: "\(key) notin (\(values.joined(separator: ",")))"
            case .greaterThan: "\(key)>\(values.first ?? "")"
            case .lessThan: "\(key)<\(values.first ?? "")"
            }
        }
    }

    /// The requirements, all of which must hold. Sorted by key after parsing.
    public var requirements: [Requirement]
    /// True for the selector made from a `null` structured selector: it matches no object.
    public private(set) var matchesNothing: Bool = false

    public init(requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    /// The selector that matches every object.
    public static let everything = LabelSelector()
    /// The selector that matches no object.
    public static let nothing: LabelSelector = {
        var selector = LabelSelector()
        selector.matchesNothing = true
        return selector
    }()

    public var isEverything: Bool { requirements.isEmpty && !matchesNothing }

    public func matches(_ labels: [String: String]) -> Bool {
        if matchesNothing { return false }
        return requirements.allSatisfy { $0.matches(labels) }
    }

    /// Matches an object by its `metadata.labels` (missing labels count as none).
    public func matches(object: JSONValue) -> Bool {
        matches(LabelSelector.labels(of: object))
    }

    /// `metadata.labels` as a string dictionary; non-string values are ignored.
    public static func labels(of object: JSONValue) -> [String: String] {
        guard let fields = object[path: ["metadata", "labels"]]?.objectValue else { return [:] }
        return fields.compactMapValues(\.stringValue)
    }

    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }

    // MARK: - Parsing the string form

    /// Parses the query-string form (`-l` in kubectl).
    /// - Throws: `KubeModelsError` with code `.labelSelectorSyntax`; `message` is the apiserver's
    ///   text (`unable to parse requirement: ...`, `found 'x', expected: ...`), `subject` names
    ///   the selector and `position` the offending token's offset.
    public init(parsing selector: String) throws(KubeModelsError) {
        var parser = Parser(selector: selector)
        requirements = try parser.parse().sorted { $0.key < $1.key }
    }

    // MARK: - The structured form

    /// Converts `{matchLabels, matchExpressions}` (as in Deployment `spec.selector`). `null` gives
    /// `.nothing` and `{}` gives `.everything`, as `metav1.LabelSelectorAsSelector` does.
    /// - Throws: `KubeModelsError` (`.labelSelectorSyntax`) for an unknown operator, a bad key or
    ///   value, or values that do not fit the operator.
    public init(structured: JSONValue) throws(KubeModelsError) {
        if structured.isNull {
            self = .nothing
            return
        }
        guard case .object = structured else {
            throw KubeModelsError(
                code: .labelSelectorSyntax, message: "a label selector must be an object, got \(structured.jsonText)")
        }
        var result: [Requirement] = []
        for (key, value) in (structured["matchLabels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let text = value.stringValue else {
                throw KubeModelsError(
                    code: .labelSelectorSyntax, message: "matchLabels[\(key)] must be a string, got \(value.jsonText)")
            }
            result.append(try Requirement(key: key, operator: .equals, values: [text]))
        }
        for expression in structured["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let opName = expression["operator"]?.stringValue ?? ""
            let values = (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            let op: Operator
            switch opName {
            case "In": op = .in
            case "NotIn": op = .notIn
            case "Exists": op = .exists
            case "DoesNotExist": op = .doesNotExist
            default:
                throw KubeModelsError(
                    code: .labelSelectorSyntax,
                    message: "\(KubeStatus.goQuoted(opName)) is not a valid label selector operator")
            }
            result.append(try Requirement(key: key, operator: op, values: values))
        }
        requirements = result
    }

    // MARK: - Validation (k8s.io/apimachinery/pkg/util/validation)

    static let qualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let qualifiedNameMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '\(qualifiedNameFormat)')"

    /// Why `key` is not a valid label key (a qualified name with an optional DNS-subdomain
    /// prefix, `example.com/name`), or nil when it is.
    public static func labelKeyProblems(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let name: String
        var problems: [String] = []
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                problems.append("prefix part must be non-empty")
            } else if let problem = dnsSubdomainProblem(prefix) {
                problems.append("prefix part \(problem)")
            }
        default:
            return "a qualified name \(qualifiedNameMessage) with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        }
        if name.isEmpty {
            problems.append("name part must be non-empty")
        } else if name.count > 63 {
            problems.append("name part must be no more than 63 characters")
        }
        if !name.isEmpty, !isQualifiedNamePart(name) {
            problems.append("name part \(qualifiedNameMessage)")
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// Why `value` is not a valid label value (at most 63 characters, empty allowed), or nil.
    public static func labelValueProblems(_ value: String) -> String? {
        var problems: [String] = []
        if value.count > 63 { problems.append("must be no more than 63 characters") }
        if !value.isEmpty, !isQualifiedNamePart(value) {
            problems.append(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            )
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    private static func isAlphanumeric(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber)
    }

    private static func isQualifiedNamePart(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return false
        }
        return text.allSatisfy { isAlphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    private static func dnsSubdomainProblem(_ text: String) -> String? {
        if text.count > 253 { return "must be no more than 253 characters" }
        let lowerAlnum: (Character) -> Bool = { $0.isASCII && ($0.isLowercase || $0.isNumber) }
        let ok =
            text.allSatisfy { lowerAlnum($0) || $0 == "-" || $0 == "." }
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                guard let first = label.first, let last = label.last else { return false }
                return lowerAlnum(first) && lowerAlnum(last)
            }
        if ok { return nil }
        return
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    }

    fileprivate static func requirementError(_ text: String) -> KubeModelsError {
        KubeModelsError(code: .labelSelectorSyntax, message: text)
    }
}

// MARK: - Lexer and parser

extension LabelSelector {
    fileprivate enum Token: Equatable {
        case identifier, endOfString, comma, openParen, closeParen
        case equals, doubleEquals, notEquals, doesNotExist, greaterThan, lessThan
        case inKeyword, notInKeyword
    }

    fileprivate struct Item {
        var token: Token
        var literal: String
        var position: Int
    }

    fileprivate struct Parser {
        let selector: String
        var items: [Item] = []
        var index = 0

        init(selector: String) {
            self.selector = selector
            items = Self.scan(Array(selector))
        }

        static let specials: Set<Character> = ["=", "!", "(", ")", ",", ">", "<"]
        static let symbolTokens: [String: Token] = [
            "=": .equals, "==": .doubleEquals, "!=": .notEquals, "!": .doesNotExist,
            "(": .openParen, ")": .closeParen, ",": .comma, ">": .greaterThan, "<": .lessThan,
        ]

        static func isWhitespace(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }

        /// Splits the selector into tokens; special symbols are taken greedily (`!=` before `!`).
        static func scan(_ chars: [Character]) -> [Item] {
            var items: [Item] = []
            var i = 0
            while true {
                while i < chars.count, isWhitespace(chars[i]) { i += 1 }
                guard i < chars.count else {
                    items.append(Item(token: .endOfString, literal: "", position: chars.count))
                    return items
                }
                let start = i
                if specials.contains(chars[i]) {
                    var buffer = String(chars[i])
                    i += 1
                    while i < chars.count, specials.contains(chars[i]), symbolTokens[buffer + String(chars[i])] != nil {
                        buffer.append(chars[i])
                        i += 1
                    }
                    // Every single special character is a token, so the lookup always succeeds.
                    items.append(Item(token: symbolTokens[buffer] ?? .comma, literal: buffer, position: start))
                } else {
                    var buffer = ""
                    while i < chars.count, !specials.contains(chars[i]), !isWhitespace(chars[i]) {
                        buffer.append(chars[i])
                        i += 1
                    }
                    let token: Token = buffer == "in" ? .inKeyword : buffer == "notin" ? .notInKeyword : .identifier
                    items.append(Item(token: token, literal: buffer, position: start))
                }
            }
        }

        /// In value positions `in` and `notin` are plain words.
        func lookahead(values: Bool) -> Item {
            var item = items[min(index, items.count - 1)]
            if values, item.token == .inKeyword || item.token == .notInKeyword { item.token = .identifier }
            return item
        }

        mutating func consume(values: Bool) -> Item {
            let item = lookahead(values: values)
            index = min(index + 1, items.count - 1)
            return item
        }

        func failure(_ message: String, at position: Int) -> KubeModelsError {
            KubeModelsError(
                code: .labelSelectorSyntax, subject: "label selector \(KubeStatus.goQuoted(selector))",
                message: message, position: position)
        }

        mutating func parse() throws(KubeModelsError) -> [Requirement] {
            var requirements: [Requirement] = []
            while true {
                let next = lookahead(values: true)
                switch next.token {
                case .identifier, .doesNotExist:
                    do {
                        requirements.append(try parseRequirement())
                    } catch {
                        throw failure("unable to parse requirement: \(error.message)", at: error.position ?? next.position)
                    }
                    let after = consume(values: true)
                    switch after.token {
                    case .endOfString:
                        return requirements
                    case .comma:
                        let following = lookahead(values: true)
                        if following.token != .identifier, following.token != .doesNotExist {
                            throw failure(
                                "found '\(following.literal)', expected: identifier after ','", at: following.position)
                        }
                    default:
                        throw failure("found '\(after.literal)', expected: ',' or 'end of string'", at: after.position)
                    }
                case .endOfString:
                    return requirements
                default:
                    throw failure(
                        "found '\(next.literal)', expected: !, identifier, or 'end of string'", at: next.position)
                }
            }
        }

        /// Errors thrown here carry only the inner text and position; `parse` adds the prefix.
        mutating func parseRequirement() throws(KubeModelsError) -> Requirement {
            var negated = false
            var keyItem = consume(values: true)
            if keyItem.token == .doesNotExist {
                negated = true
                keyItem = consume(values: true)
            }
            guard keyItem.token == .identifier else {
                throw inner("found '\(keyItem.literal)', expected: identifier", at: keyItem.position)
            }
            let key = keyItem.literal
            if let problem = LabelSelector.labelKeyProblems(key) {
                throw inner("<nil>: Invalid value: \(KubeStatus.goQuoted(key)): \(problem)", at: keyItem.position)
            }
            // `!key` always stands alone; whatever follows is the caller's problem (`expected: ','`).
            if negated {
                return try build(key: key, operator: .doesNotExist, values: [], at: keyItem.position)
            }
            let peek = lookahead(values: true)
            if peek.token == .endOfString || peek.token == .comma {
                return try build(key: key, operator: .exists, values: [], at: keyItem.position)
            }
            let opItem = consume(values: false)
            let op: Operator
            switch opItem.token {
            case .inKeyword: op = .in
            case .notInKeyword: op = .notIn
            case .equals: op = .equals
            case .doubleEquals: op = .doubleEquals
            case .notEquals: op = .notEquals
            case .greaterThan: op = .greaterThan
            case .lessThan: op = .lessThan
            default:
                throw inner(
                    "found '\(opItem.literal)', expected: in, notin, =, ==, !=, gt, lt", at: opItem.position)
            }
            let values: [String]
            switch op {
            case .in, .notIn: values = try parseValueList()
            default: values = try parseExactValue()
            }
            return try build(key: key, operator: op, values: values, at: keyItem.position)
        }

        func build(key: String, operator op: Operator, values: [String], at position: Int) throws(KubeModelsError)
            -> Requirement
        {
            do {
                return try Requirement(key: key, operator: op, values: values)
            } catch {
                throw inner(error.message, at: position)
            }
        }

        func inner(_ message: String, at position: Int) -> KubeModelsError {
            KubeModelsError(code: .labelSelectorSyntax, message: message, position: position)
        }

        mutating func parseValueList() throws(KubeModelsError) -> [String] {
            let open = consume(values: true)
            guard open.token == .openParen else {
                throw inner("found '\(open.literal)' expected: '('", at: open.position)
            }
            let first = lookahead(values: true)
            switch first.token {
            case .closeParen:
                _ = consume(values: true)
                return [""]
            case .identifier, .comma:
                var values: [String] = []
                while true {
                    let item = consume(values: true)
                    switch item.token {
                    case .identifier:
                        values.append(item.literal)
                        let next = lookahead(values: true)
                        if next.token == .comma { continue }
                        if next.token == .closeParen {
                            _ = consume(values: true)
                            return values
                        }
                        throw inner("found '\(next.literal)', expected: ',' or ')'", at: next.position)
                    case .comma:
                        // Empty entries (`(,a)`, `(a,)`, `(a,,b)`) stand for the empty value.
                        if values.isEmpty { values.append("") }
                        let next = lookahead(values: true)
                        if next.token == .closeParen {
                            values.append("")
                            _ = consume(values: true)
                            return values
                        }
                        if next.token == .comma { values.append("") }
                    default:
                        throw inner("found '\(item.literal)', expected: ',', or identifier", at: item.position)
                    }
                }
            default:
                throw inner("found '\(first.literal)', expected: ',', ')' or identifier", at: first.position)
            }
        }

        mutating func parseExactValue() throws(KubeModelsError) -> [String] {
            let next = lookahead(values: true)
            if next.token == .endOfString || next.token == .comma { return [""] }
            let item = consume(values: true)
            guard item.token == .identifier else {
                throw inner("found '\(item.literal)', expected: identifier", at: item.position)
            }
            return [item.literal]
        }
    }
}
