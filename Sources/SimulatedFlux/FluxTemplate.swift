import Foundation
import KubeModels

/// The templates of a Flux Operator ResourceSet: Go `text/template` with `<< >>` delimiters,
/// evaluated once per input set. The subset the simulated operator renders:
///
/// - `<< inputs.name >>`, `<< inputs.a.b >>`, `<< $var >>`, `<< . >>` / `<< .field >>`, string,
///   number and boolean literals; trim markers `<<-` and `->>` as in Go;
/// - `if` / `else if` / `else` / `end`, `range $v := …`, `range $i, $v := …`, `range …` (lists in
///   order, maps by sorted key, `else` when empty);
/// - pipelines with `default`, `quote`, `join`, `lower`, `upper`, `not`, `eq`.
///
/// Anything else (another function, `with`, `template`, parentheses) is an error naming it, never
/// silently wrong output; so is printing a value that is not set, a list or a map (Go would print
/// `<no value>` or `[a b]` into the YAML).
struct FluxTemplate {
    struct TemplateError: Error, Equatable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    indirect enum Node {
        case text(String)
        case output(Pipeline)
        /// Branches in order; a nil condition is `else`.
        case conditional([(condition: Pipeline?, body: [Node])])
        case range(index: String?, element: String?, over: Pipeline, body: [Node], otherwise: [Node])
    }

    struct Pipeline {
        /// Each command's words; the first command may be a lone operand.
        var commands: [[String]]
        var source: String
    }

    let nodes: [Node]

    init(_ template: String) throws(TemplateError) {
        var parser = Parser(tokens: try Self.tokens(template))
        nodes = try parser.parseNodes(until: [])
    }

    /// Renders with `inputs` (one input set) as `inputs` and as the root.
    func render(inputs: JSONValue) throws(TemplateError) -> String {
        var scope = Scope(inputs: inputs, dot: ["inputs": inputs], variables: [:])
        var output = ""
        try Self.render(nodes, into: &output, scope: &scope)
        return output
    }

    // MARK: - Lexing

    enum Token {
        case text(String)
        case action(String)
    }

    static func tokens(_ template: String) throws(TemplateError) -> [Token] {
        var tokens: [Token] = []
        var rest = Substring(template)
        var trimNext = false
        while let open = rest.range(of: "<<") {
            var text = String(rest[..<open.lowerBound])
            if trimNext { text = String(text.drop { $0.isWhitespace }) }
            var inner = rest[open.upperBound...]
            if inner.hasPrefix("-"), inner.dropFirst().first?.isWhitespace == true {
                text = String(text.reversed().drop { $0.isWhitespace }.reversed())
                inner = inner.dropFirst()
            }
            tokens.append(.text(text))
            guard let close = Self.closing(in: inner) else {
                throw TemplateError(message: "template: unclosed action starting \"<<\(inner.prefix(30))\"")
            }
            var body = inner[..<close.lowerBound]
            trimNext = false
            if body.hasSuffix("-"), body.dropLast().last?.isWhitespace == true {
                body = body.dropLast()
                trimNext = true
            }
            tokens.append(.action(body.trimmingCharacters(in: .whitespacesAndNewlines)))
            rest = inner[close.upperBound...]
        }
        tokens.append(.text(trimNext ? String(rest.drop { $0.isWhitespace }) : String(rest)))
        return tokens
    }

    /// The `>>` that closes an action, skipping any inside a quoted string.
    static func closing(in text: Substring) -> Range<Substring.Index>? {
        var quote: Character?
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if let open = quote {
                if character == "\\", open == "\"" {
                    index = text.index(after: index)
                } else if character == open {
                    quote = nil
                }
            } else if character == "\"" || character == "`" {
                quote = character
            } else if text[index...].hasPrefix(">>") {
                return index..<text.index(index, offsetBy: 2)
            }
            if index < text.endIndex { index = text.index(after: index) }
        }
        return nil
    }

    // MARK: - Parsing

    struct Parser {
        var tokens: [Token]
        var position = 0

        /// Nodes up to one of the `terminators` keywords (`end`, `else`…), which is left unread.
        mutating func parseNodes(until terminators: Set<String>) throws(TemplateError) -> [Node] {
            var nodes: [Node] = []
            while position < tokens.count {
                switch tokens[position] {
                case .text(let text):
                    position += 1
                    if !text.isEmpty { nodes.append(.text(text)) }
                case .action(let action):
                    let keyword = action.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
                    if terminators.contains(keyword) { return nodes }
                    position += 1
                    if action.hasPrefix("/*") { continue }
                    switch keyword {
                    case "if": nodes.append(try parseIf(String(action.dropFirst(2))))
                    case "range": nodes.append(try parseRange(String(action.dropFirst(5))))
                    case "end", "else":
                        throw TemplateError(message: "template: unexpected <<\(keyword)>>")
                    case "with", "template", "define", "block", "break", "continue":
                        throw TemplateError(message: "template: <<\(keyword)>> is not supported by the simulated flux-operator")
                    default: nodes.append(.output(try FluxTemplate.pipeline(action)))
                    }
                }
            }
            if !terminators.isEmpty { throw TemplateError(message: "template: unexpected end of template, missing <<end>>") }
            return nodes
        }

        mutating func parseIf(_ condition: String) throws(TemplateError) -> Node {
            var branches: [(condition: Pipeline?, body: [Node])] = []
            var current: Pipeline? = try FluxTemplate.pipeline(condition)
            while true {
                let body = try parseNodes(until: ["end", "else"])
                branches.append((current, body))
                guard position < tokens.count, case .action(let action) = tokens[position] else {
                    throw TemplateError(message: "template: <<if>> without <<end>>")
                }
                position += 1
                if action == "end" { return .conditional(branches) }
                let rest = action.dropFirst(4).trimmingCharacters(in: .whitespaces)
                if rest.hasPrefix("if ") {
                    current = try FluxTemplate.pipeline(String(rest.dropFirst(3)))
                } else if rest.isEmpty {
                    branches.append((nil, try parseNodes(until: ["end"])))
                    position += 1
                    return .conditional(branches)
                } else {
                    throw TemplateError(message: "template: unexpected <<\(action)>>")
                }
            }
        }

        mutating func parseRange(_ header: String) throws(TemplateError) -> Node {
            var index: String?
            var element: String?
            var over = header.trimmingCharacters(in: .whitespaces)
            if let assign = over.range(of: ":=") {
                let names = over[..<assign.lowerBound].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard names.allSatisfy({ $0.hasPrefix("$") && $0.count > 1 }), (1...2).contains(names.count) else {
                    throw TemplateError(message: "template: bad range variables in <<range \(header)>>")
                }
                if names.count == 2 {
                    index = names[0]
                    element = names[1]
                } else {
                    element = names[0]
                }
                over = over[assign.upperBound...].trimmingCharacters(in: .whitespaces)
            }
            let pipeline = try FluxTemplate.pipeline(over)
            let body = try parseNodes(until: ["end", "else"])
            guard position < tokens.count, case .action(let action) = tokens[position] else {
                throw TemplateError(message: "template: <<range>> without <<end>>")
            }
            position += 1
            var otherwise: [Node] = []
            if action == "else" {
                otherwise = try parseNodes(until: ["end"])
                position += 1
            }
            return .range(index: index, element: element, over: pipeline, body: body, otherwise: otherwise)
        }
    }

    /// Splits `a b | f x` into commands of words (quoted strings kept whole).
    static func pipeline(_ text: String) throws(TemplateError) -> Pipeline {
        var commands: [[String]] = [[]]
        var word = ""
        var quote: Character?
        var escaped = false
        func endWord() {
            if !word.isEmpty { commands[commands.count - 1].append(word) }
            word = ""
        }
        for character in text {
            if let open = quote {
                word.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\", open == "\"" {
                    escaped = true
                } else if character == open {
                    quote = nil
                }
                continue
            }
            switch character {
            case "\"", "`":
                quote = character
                word.append(character)
            case "|":
                endWord()
                commands.append([])
            case "(", ")":
                throw TemplateError(message: "template: parentheses in <<\(text)>> are not supported by the simulated flux-operator")
            case _ where character.isWhitespace: endWord()
            default: word.append(character)
            }
        }
        guard quote == nil else { throw TemplateError(message: "template: unterminated string in <<\(text)>>") }
        endWord()
        guard commands.allSatisfy({ !$0.isEmpty }) else { throw TemplateError(message: "template: empty command in <<\(text)>>") }
        return Pipeline(commands: commands, source: text)
    }

    // MARK: - Evaluation

    struct Scope {
        var inputs: JSONValue
        var dot: JSONValue
        var variables: [String: JSONValue]
    }

    static func render(_ nodes: [Node], into output: inout String, scope: inout Scope) throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text(let text): output += text
            case .output(let pipeline):
                let value = try evaluate(pipeline, scope)
                output += try text(of: value, pipeline)
            case .conditional(let branches):
                for branch in branches {
                    if let condition = branch.condition, !truthy(try evaluate(condition, scope)) { continue }
                    try render(branch.body, into: &output, scope: &scope)
                    break
                }
            case .range(let index, let element, let over, let body, let otherwise):
                let items: [(key: JSONValue, value: JSONValue)]
                switch try evaluate(over, scope) {
                case .array(let values): items = values.enumerated().map { (.number(Double($0.offset)), $0.element) }
                case .object(let map): items = map.keys.sorted().map { (.string($0), map[$0] ?? .null) }
                case .null: items = []
                default: throw TemplateError(message: "template: range can't iterate over <<\(over.source)>>, which is not a list or map")
                }
                if items.isEmpty {
                    try render(otherwise, into: &output, scope: &scope)
                    continue
                }
                let saved = scope
                for item in items {
                    scope.dot = item.value
                    if let index { scope.variables[index] = item.key }
                    if let element { scope.variables[element] = item.value }
                    try render(body, into: &output, scope: &scope)
                }
                scope = saved
            }
        }
    }

    static func evaluate(_ pipeline: Pipeline, _ scope: Scope) throws(TemplateError) -> JSONValue {
        var value: JSONValue?
        for command in pipeline.commands {
            let name = command[0]
            if functions.contains(name) {
                var arguments = try command.dropFirst().map { word throws(TemplateError) in try operand(word, scope) }
                if let piped = value { arguments.append(piped) }
                value = try call(name, arguments, pipeline)
            } else {
                guard value == nil, command.count == 1 else {
                    throw TemplateError(
                        message:
                            "template: <<\(pipeline.source)>>: \"\(name)\" is not a function the simulated flux-operator knows (\(functions.sorted().joined(separator: ", ")))"
                    )
                }
                value = try operand(name, scope)
            }
        }
        return value ?? .null
    }

    static let functions: Set<String> = ["default", "quote", "join", "lower", "upper", "not", "eq"]

    static func call(_ name: String, _ arguments: [JSONValue], _ pipeline: Pipeline) throws(TemplateError) -> JSONValue {
        func want(_ count: Int) throws(TemplateError) {
            guard arguments.count == count else {
                throw TemplateError(message: "template: <<\(pipeline.source)>>: \(name) takes \(count) argument(s), got \(arguments.count)")
            }
        }
        switch name {
        case "default":
            try want(2)
            return truthy(arguments[1]) ? arguments[1] : arguments[0]
        case "quote":
            try want(1)
            let text = try self.text(of: arguments[0], pipeline).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return .string("\"\(text)\"")
        case "join":
            try want(2)
            guard case .array(let items) = arguments[1] else { throw TemplateError(message: "template: <<\(pipeline.source)>>: join needs a list") }
            return .string(try items.map { item throws(TemplateError) in try text(of: item, pipeline) }.joined(separator: try text(of: arguments[0], pipeline)))
        case "lower":
            try want(1)
            return .string(try text(of: arguments[0], pipeline).lowercased())
        case "upper":
            try want(1)
            return .string(try text(of: arguments[0], pipeline).uppercased())
        case "not":
            try want(1)
            return .bool(!truthy(arguments[0]))
        default:
            try want(2)
            return .bool(arguments[0] == arguments[1])
        }
    }

    static func operand(_ word: String, _ scope: Scope) throws(TemplateError) -> JSONValue {
        if word.hasPrefix("\"") || word.hasPrefix("`") {
            let body = word.dropFirst().dropLast()
            guard word.hasPrefix("\"") else { return .string(String(body)) }
            var text = ""
            var escaped = false
            for character in body {
                if escaped {
                    text.append(character == "n" ? "\n" : character == "t" ? "\t" : character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else {
                    text.append(character)
                }
            }
            return .string(text)
        }
        switch word {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "nil": return .null
        default: break
        }
        if let number = Double(word) { return .number(number) }
        var fields = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var value: JSONValue
        if word.hasPrefix(".") {
            value = scope.dot
            fields.removeFirst()
            if word == "." { return value }
        } else if word.hasPrefix("$") {
            let name = fields.removeFirst()
            guard let bound = name == "$" ? ["inputs": scope.inputs] : scope.variables[name] else {
                throw TemplateError(message: "template: undefined variable \"\(name)\"")
            }
            value = bound
        } else if fields.first == "inputs" {
            value = scope.inputs
            fields.removeFirst()
        } else {
            throw TemplateError(message: "template: \"\(word)\" is neither a value nor a function the simulated flux-operator knows")
        }
        for field in fields {
            guard !field.isEmpty else { throw TemplateError(message: "template: bad field reference \"\(word)\"") }
            switch value {
            case .object(let map): value = map[field] ?? .null
            case .null: return .null
            default: throw TemplateError(message: "template: \"\(word)\": can't read field \(field) of a \(kind(of: value))")
            }
        }
        return value
    }

    static func truthy(_ value: JSONValue) -> Bool {
        switch value {
        case .null: false
        case .bool(let flag): flag
        case .number(let number): number != 0
        case .string(let text): !text.isEmpty
        case .array(let items): !items.isEmpty
        case .object(let map): !map.isEmpty
        }
    }

    static func text(of value: JSONValue, _ pipeline: Pipeline) throws(TemplateError) -> String {
        switch value {
        case .string(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number):
            return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .null:
            throw TemplateError(message: "template: <<\(pipeline.source)>> has no value (an input that is not set; give one, or use | default)")
        default:
            throw TemplateError(message: "template: <<\(pipeline.source)>> is a \(kind(of: value)); range over it or join it")
        }
    }

    static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "list"
        case .object: "map"
        }
    }
}
