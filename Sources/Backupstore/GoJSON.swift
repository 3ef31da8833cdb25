import Foundation

/// Writes and reads JSON the way Go's `encoding/json` does for Longhorn's cfg structs.
///
/// Longhorn writes cfgs with `json.Marshal`: fields in struct order, map keys sorted, `<`, `>` and `&`
/// escaped as `\u003c` etc., and `,string` fields encoded as a JSON string holding JSON. Writing the same
/// bytes keeps our cfgs indistinguishable from Longhorn's (and diffable against them).
struct GoJSONWriter {
    private var text = "{"
    private var isFirst = true

    private mutating func key(_ name: String) {
        if !isFirst { text += "," }
        isFirst = false
        text += Self.quote(name)
        text += ":"
    }

    mutating func string(_ name: String, _ value: String) {
        key(name)
        text += Self.quote(value)
    }

    /// A Go `string` field with the `,string` tag: the JSON of the string, inside a string.
    mutating func doubleEncodedString(_ name: String, _ value: String) {
        string(name, Self.quote(value))
    }

    /// A Go `int64` field with the `,string` tag.
    mutating func int64String(_ name: String, _ value: Int64) {
        string(name, String(value))
    }

    mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    mutating func null(_ name: String) {
        key(name)
        text += "null"
    }

    /// A Go `map[string]string`: `null` when nil, keys sorted by their bytes as Go does.
    mutating func stringMap(_ name: String, _ map: [String: String]?) {
        guard let map else { return null(name) }
        key(name)
        text += "{"
        let keys = map.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        for (index, mapKey) in keys.enumerated() {
            if index > 0 { text += "," }
            text += Self.quote(mapKey) + ":" + Self.quote(map[mapKey] ?? "")
        }
        text += "}"
    }

    /// An already-encoded JSON value.
    mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    func finish() -> Data {
        Data((text + "}").utf8)
    }

    /// A JSON string literal with Go's escaping rules.
    static func quote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

// MARK: - Reading

extension KeyedDecodingContainer {
    /// A plain Go string field; missing or `null` reads as "" (Go's zero value).
    func goString(_ key: Key) throws -> String {
        try decodeIfPresent(String.self, forKey: key) ?? ""
    }

    /// A Go string with the `,string` tag: accepts the double-encoded form Longhorn writes (`"\"lz4\""`)
    /// and, leniently, a plain string (`"lz4"`) as hand-written or older cfgs may have.
    func goDoubleEncodedString(_ key: Key) throws -> String {
        let outer = try goString(key)
        guard outer.count >= 2, outer.hasPrefix("\""), outer.hasSuffix("\"") else { return outer }
        if let inner = try? JSONSerialization.jsonObject(with: Data(outer.utf8), options: [.fragmentsAllowed])
            as? String
        {
            return inner
        }
        throw DecodingError.dataCorruptedError(
            forKey: key, in: self,
            debugDescription: "\(key.stringValue) is not a valid double-encoded string: \(outer)")
    }

    /// A Go `int64` with the `,string` tag (`"2097152"`); also accepts a bare number. Missing reads as 0.
    func goInt64String(_ key: Key) throws -> Int64 {
        guard contains(key), try !decodeNil(forKey: key) else { return 0 }
        if let text = try? decode(String.self, forKey: key) {
            guard let value = Int64(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: self, debugDescription: "\(key.stringValue) is not an integer: \"\(text)\"")
            }
            return value
        }
        return try decode(Int64.self, forKey: key)
    }

    /// A Go `map[string]string`; `null` or missing reads as nil.
    func goStringMap(_ key: Key) throws -> [String: String]? {
        try decodeIfPresent([String: String].self, forKey: key)
    }
}
