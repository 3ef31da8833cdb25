import Foundation

/// A parsed field selector (`metadata.name=c1,status.phase!=Running`): an AND of equality tests on
/// a few indexed fields.
///
/// Kubernetes supports only a fixed set of field paths per kind; anything else is refused with
/// `field label not supported: X`. Accepting every path (as the client-go fake does) hides bugs,
/// so evaluation needs the kind's list of extra fields.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
    }

    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public var field: String
        public var `operator`: Operator
        public var value: String

        public init(field: String, operator op: Operator, value: String) {
            self.field = field
            self.operator = op
            self.value = value
        }

        public func matches(fieldValue: String) -> Bool {
            self.operator == .notEquals ? fieldValue != value : fieldValue == value
        }

        public var description: String { "\(field)\(self.operator.rawValue)\(FieldSelector.escape(value))" }
    }

    /// Fields every kind supports.
    public static let alwaysSupported: Set<String> = ["metadata.name", "metadata.namespace"]

    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    public static let everything = FieldSelector()

    public var isEverything: Bool { requirements.isEmpty }

    public var description: String { requirements.map(\.description).joined(separator: ",") }

    /// Parses `a=b,c!=d,e==f`. Values may escape `\,`, `\=` and `\\`; empty terms are skipped.
    /// - Throws: `KubeModelsError` (`.fieldSelectorSyntax`) with the apiserver's text,
    ///   `invalid selector: '<selector>'; can't understand '<term>'`, and the term's offset.
    public init(parsing selector: String) throws(KubeModelsError) {
        var result: [Requirement] = []
        for (term, offset) in Self.splitTerms(selector) where !term.isEmpty {
            guard let (field, op, rawValue) = Self.splitTerm(term) else {
                throw KubeModelsError(
                    code: .fieldSelectorSyntax, subject: "field selector \(KubeStatus.goQuoted(selector))",
                    message: "invalid selector: '\(selector)'; can't understand '\(term)'", position: offset)
            }
            let value: String
            do {
                value = try Self.unescape(rawValue)
            } catch {
                throw KubeModelsError(
                    code: .fieldSelectorSyntax, subject: "field selector \(KubeStatus.goQuoted(selector))",
                    message: error.message, position: offset)
            }
            result.append(Requirement(field: field, operator: op, value: value))
        }
        requirements = result
    }

    /// Checks every field is supported for the kind.
    /// - Parameter supportedFields: the kind's extra fields (e.g. `status.phase` for pods);
    ///   `metadata.name` and `metadata.namespace` are always allowed.
    /// - Throws: `KubeModelsError` (`.fieldLabelNotSupported`) whose message is exactly
    ///   `field label not supported: <field>` (the simulator answers 400 BadRequest with it).
    public func validate(supportedFields: Set<String> = []) throws(KubeModelsError) {
        for requirement in requirements
        where !Self.alwaysSupported.contains(requirement.field) && !supportedFields.contains(requirement.field) {
            throw KubeModelsError(
                code: .fieldLabelNotSupported, subject: "field selector \(KubeStatus.goQuoted(description))",
                message: "field label not supported: \(requirement.field)",
                hint: "supported fields: \(Self.alwaysSupported.union(supportedFields).sorted().joined(separator: ", "))")
        }
    }

    /// Evaluates the selector against an object.
    /// - Throws: `KubeModelsError` (`.fieldLabelNotSupported`) as `validate(supportedFields:)`.
    public func matches(_ object: JSONValue, supportedFields: Set<String> = []) throws(KubeModelsError) -> Bool {
        try validate(supportedFields: supportedFields)
        return requirements.allSatisfy { $0.matches(fieldValue: Self.fieldValue($0.field, in: object)) }
    }

    /// The string the apiserver indexes for a dotted path: strings as they are, booleans and
    /// numbers printed, and a missing field as the empty string (so `spec.nodeName=` finds
    /// unscheduled pods).
    public static func fieldValue(_ path: String, in object: JSONValue) -> String {
        let keys = path.split(separator: ".").map(String.init)
        switch object[path: keys] {
        case .string(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return JSONValue.number(number).jsonText
        case .none, .null: return ""
        case .array(let items): return items.map { $0.stringValue ?? $0.jsonText }.joined(separator: ",")
        case .object(let value): return JSONValue.object(value).jsonText
        }
    }

    // MARK: - Escaping

    /// Splits on commas not preceded by a backslash escape; returns each term with its offset.
    static func splitTerms(_ selector: String) -> [(String, Int)] {
        var terms: [(String, Int)] = []
        var current = ""
        var start = 0
        var escaped = false
        for (offset, c) in selector.enumerated() {
            if escaped {
                current.append(c)
                escaped = false
            } else if c == "\\" {
                current.append(c)
                escaped = true
            } else if c == "," {
                terms.append((current, start))
                current = ""
                start = offset + 1
            } else {
                current.append(c)
            }
        }
        terms.append((current, start))
        return terms
    }

    /// Finds the first unescaped operator; `!=` and `==` are tried before `=` at each position.
    static func splitTerm(_ term: String) -> (String, Operator, String)? {
        let chars = Array(term)
        var i = 0
        while i < chars.count {
            if chars[i] == "\\" {
                i += 2
                continue
            }
            for op in [Operator.notEquals, .doubleEquals, .equals] {
                let symbol = Array(op.rawValue)
                if i + symbol.count <= chars.count, Array(chars[i..<(i + symbol.count)]) == symbol {
                    let field = String(chars[..<i])
                    let value = String(chars[(i + symbol.count)...])
                    return (field, op, value)
                }
            }
            i += 1
        }
        return nil
    }

    static func unescape(_ text: String) throws(KubeModelsError) -> String {
        var out = ""
        var escaped = false
        for c in text {
            if escaped {
                guard c == "\\" || c == "," || c == "=" else {
                    throw KubeModelsError(
                        code: .fieldSelectorSyntax,
                        message: "invalid field selector: invalid escape sequence: \\\(c)")
                }
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "," || c == "=" {
                throw KubeModelsError(
                    code: .fieldSelectorSyntax, message: "invalid field selector: unescaped character in value: \(c)")
            } else {
                out.append(c)
            }
        }
        if escaped {
            throw KubeModelsError(
                code: .fieldSelectorSyntax, message: "invalid field selector: invalid escape sequence: \\")
        }
        return out
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "\\" || c == "," || c == "=" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
