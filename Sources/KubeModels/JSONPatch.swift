import Foundation

/// JSON patch (RFC 6902), the `application/json-patch+json` PATCH type: a list of `add`,
/// `remove`, `replace`, `move`, `copy` and `test` operations on JSON pointers (RFC 6901).
///
/// Application is atomic: operations run on a copy, and the first failure (a failed `test`
/// included) throws and leaves the caller's document untouched.
public struct JSONPatch: Sendable, Hashable {
    public enum Operation: Sendable, Hashable {
        case add(path: String, value: JSONValue)
        case remove(path: String)
        case replace(path: String, value: JSONValue)
        case move(from: String, path: String)
        case copy(from: String, path: String)
        case test(path: String, value: JSONValue)

        public var name: String {
            switch self {
            case .add: "add"
            case .remove: "remove"
            case .replace: "replace"
            case .move: "move"
            case .copy: "copy"
            case .test: "test"
            }
        }

        public var path: String {
            switch self {
            case .add(let path, _), .remove(let path), .replace(let path, _), .move(_, let path),
                .copy(_, let path), .test(let path, _):
                path
            }
        }
    }

    public var operations: [Operation]

    public init(operations: [Operation]) {
        self.operations = operations
    }

    /// Reads a patch document (a JSON array of operation objects).
    /// - Throws: `KubeModelsError` (`.jsonPatchMalformed`) naming the operation index when the
    ///   document is not an array, an `op` is unknown, or a required member is missing.
    public init(json: JSONValue) throws(KubeModelsError) {
        guard let items = json.arrayValue else {
            throw KubeModelsError(
                code: .jsonPatchMalformed, message: "a JSON patch must be an array of operations, got \(json.jsonText)")
        }
        var operations: [Operation] = []
        for (index, item) in items.enumerated() {
            func member(_ name: String) throws(KubeModelsError) -> String {
                guard let text = item[name]?.stringValue else {
                    throw KubeModelsError(
                        code: .jsonPatchMalformed, subject: "json patch operation \(index)",
                        message: "missing or non-string \(KubeStatus.goQuoted(name)) in \(item.jsonText)",
                        operationIndex: index)
                }
                return text
            }
            func value() throws(KubeModelsError) -> JSONValue {
                // `"value": null` is a real value; only an absent member is an error.
                guard let value = item["value"] else {
                    throw KubeModelsError(
                        code: .jsonPatchMalformed, subject: "json patch operation \(index)",
                        message: "missing \"value\" in \(item.jsonText)", operationIndex: index)
                }
                return value
            }
            switch try member("op") {
            case "add": operations.append(.add(path: try member("path"), value: try value()))
            case "remove": operations.append(.remove(path: try member("path")))
            case "replace": operations.append(.replace(path: try member("path"), value: try value()))
            case "move": operations.append(.move(from: try member("from"), path: try member("path")))
            case "copy": operations.append(.copy(from: try member("from"), path: try member("path")))
            case "test": operations.append(.test(path: try member("path"), value: try value()))
            case let other:
                throw KubeModelsError(
                    code: .jsonPatchMalformed, subject: "json patch operation \(index)",
                    message: "unknown operation \(KubeStatus.goQuoted(other))", operationIndex: index)
            }
        }
        self.operations = operations
    }

    /// Parses patch text. - Throws: `KubeModelsError` (`.jsonPatchMalformed`), also for bad JSON.
    public init(parsing text: String) throws(KubeModelsError) {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: text)
        } catch {
            throw KubeModelsError(code: .jsonPatchMalformed, message: "invalid JSON patch: \(error)")
        }
        try self.init(json: json)
    }

    public var json: JSONValue {
        .array(
            operations.map { op in
                switch op {
                case .add(let path, let value): ["op": "add", "path": .string(path), "value": value]
                case .remove(let path): ["op": "remove", "path": .string(path)]
                case .replace(let path, let value): ["op": "replace", "path": .string(path), "value": value]
                case .move(let from, let path): ["op": "move", "from": .string(from), "path": .string(path)]
                case .copy(let from, let path): ["op": "copy", "from": .string(from), "path": .string(path)]
                case .test(let path, let value): ["op": "test", "path": .string(path), "value": value]
                }
            })
    }

    /// Applies every operation in order and returns the result.
    /// - Throws: `KubeModelsError` with `.jsonPatchTestFailed` for a failed `test` and
    ///   `.jsonPatchFailed` otherwise; `operationIndex` and `subject`
    ///   (`json patch operation 2 (remove /a/b)`) say which operation failed.
    public func apply(to document: JSONValue) throws(KubeModelsError) -> JSONValue {
        var result = document
        for (index, operation) in operations.enumerated() {
            do {
                result = try Self.perform(operation, on: result)
            } catch {
                let subject: String
                switch operation {
                case .move(let from, let path), .copy(let from, let path):
                    subject = "json patch operation \(index) (\(operation.name) \(from) -> \(path))"
                default:
                    subject = "json patch operation \(index) (\(operation.name) \(operation.path))"
                }
                throw KubeModelsError(
                    code: error.isTestFailure ? .jsonPatchTestFailed : .jsonPatchFailed, subject: subject,
                    message: error.message, operationIndex: index)
            }
        }
        return result
    }

    // MARK: - Operations

    struct Failure: Error {
        var message: String
        var isTestFailure = false
    }

    static func perform(_ operation: Operation, on document: JSONValue) throws(Failure) -> JSONValue {
        switch operation {
        case .add(let path, let value):
            return try add(value, at: pointer(path)[...], in: document)
        case .remove(let path):
            return try remove(at: pointer(path)[...], in: document).document
        case .replace(let path, let value):
            let tokens = try pointer(path)
            _ = try get(tokens[...], in: document)
            return try add(value, at: tokens[...], in: remove(at: tokens[...], in: document).document)
        case .move(let from, let path):
            let fromTokens = try pointer(from)
            let toTokens = try pointer(path)
            if fromTokens == toTokens { return document }
            if toTokens.count > fromTokens.count, Array(toTokens.prefix(fromTokens.count)) == fromTokens {
                throw Failure(message: "cannot move \(from) into its own child \(path)")
            }
            let (removed, value) = try remove(at: fromTokens[...], in: document)
            return try add(value, at: toTokens[...], in: removed)
        case .copy(let from, let path):
            let value = try get(pointer(from)[...], in: document)
            return try add(value, at: pointer(path)[...], in: document)
        case .test(let path, let expected):
            let actual = try get(pointer(path)[...], in: document)
            guard actual == expected else {
                throw Failure(
                    message: "test failed: value at \(path) is \(actual.jsonText), expected \(expected.jsonText)",
                    isTestFailure: true)
            }
            return document
        }
    }

    /// Splits a JSON pointer into unescaped reference tokens (`~1` → `/`, then `~0` → `~`).
    static func pointer(_ text: String) throws(Failure) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else {
            throw Failure(message: "JSON pointer \(KubeStatus.goQuoted(text)) must be empty or start with '/'")
        }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var chars = raw.makeIterator()
            while let c = chars.next() {
                guard c == "~" else {
                    token.append(c)
                    continue
                }
                switch chars.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default: throw Failure(message: "invalid escape in JSON pointer \(KubeStatus.goQuoted(text))")
                }
            }
            tokens.append(token)
        }
        return tokens
    }

    /// An array index token: decimal digits without leading zeros.
    static func arrayIndex(_ token: String, count: Int, allowEnd: Bool) throws(Failure) -> Int {
        if allowEnd, token == "-" { return count }
        guard !token.isEmpty, token.allSatisfy({ $0.isASCII && $0.isNumber }), token == "0" || !token.hasPrefix("0"),
            let index = Int(token)
        else {
            throw Failure(message: "invalid array index \(KubeStatus.goQuoted(token))")
        }
        let limit = allowEnd ? count : count - 1
        guard index <= limit else {
            throw Failure(message: "array index \(index) out of bounds (length \(count))")
        }
        return index
    }

    static func get(_ tokens: ArraySlice<String>, in value: JSONValue) throws(Failure) -> JSONValue {
        guard let token = tokens.first else { return value }
        switch value {
        case .object(let fields):
            guard let child = fields[token] else { throw Failure(message: "path not found: missing key \(KubeStatus.goQuoted(token))") }
            return try get(tokens.dropFirst(), in: child)
        case .array(let items):
            let index = try arrayIndex(token, count: items.count, allowEnd: false)
            return try get(tokens.dropFirst(), in: items[index])
        default:
            throw Failure(message: "path not found: cannot index into \(value.jsonText) with \(KubeStatus.goQuoted(token))")
        }
    }

    /// Adds a value; on arrays `add` inserts, shifting later items (`-` appends).
    static func add(_ newValue: JSONValue, at tokens: ArraySlice<String>, in value: JSONValue) throws(Failure)
        -> JSONValue
    {
        guard let token = tokens.first else { return newValue }
        let last = tokens.count == 1
        switch value {
        case .object(var fields):
            if last {
                fields[token] = newValue
            } else {
                guard let child = fields[token] else {
                    throw Failure(message: "path not found: missing key \(KubeStatus.goQuoted(token))")
                }
                fields[token] = try add(newValue, at: tokens.dropFirst(), in: child)
            }
            return .object(fields)
        case .array(var items):
            if last {
                let index = try arrayIndex(token, count: items.count, allowEnd: true)
                items.insert(newValue, at: index)
            } else {
                let index = try arrayIndex(token, count: items.count, allowEnd: false)
                items[index] = try add(newValue, at: tokens.dropFirst(), in: items[index])
            }
            return .array(items)
        default:
            throw Failure(message: "path not found: cannot add inside \(value.jsonText)")
        }
    }

    static func remove(at tokens: ArraySlice<String>, in value: JSONValue) throws(Failure) -> (
        document: JSONValue, removed: JSONValue
    ) {
        guard let token = tokens.first else {
            // Removing the root leaves nothing; RFC 6902 does not forbid it.
            return (.null, value)
        }
        let last = tokens.count == 1
        switch value {
        case .object(var fields):
            guard let child = fields[token] else {
                throw Failure(message: "path not found: missing key \(KubeStatus.goQuoted(token))")
            }
            if last {
                fields.removeValue(forKey: token)
                return (.object(fields), child)
            }
            let (newChild, removed) = try remove(at: tokens.dropFirst(), in: child)
            fields[token] = newChild
            return (.object(fields), removed)
        case .array(var items):
            let index = try arrayIndex(token, count: items.count, allowEnd: false)
            if last {
                let removed = items.remove(at: index)
                return (.array(items), removed)
            }
            let (newChild, removed) = try remove(at: tokens.dropFirst(), in: items[index])
            items[index] = newChild
            return (.array(items), removed)
        default:
            throw Failure(message: "path not found: cannot remove inside \(value.jsonText)")
        }
    }
}
