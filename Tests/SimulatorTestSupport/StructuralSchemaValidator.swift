import Foundation
import KubeModels

/// Checks an object against a CRD's structural schema, for the subset the Longhorn CRDs use:
/// `type`, `properties`, `required`, `enum`, `items`, `additionalProperties`, `nullable`,
/// `x-kubernetes-preserve-unknown-fields`, `minimum`, and the formats `int64` (a string that must
/// hold an integer) and `date-time`. Reports every unknown field and type error by path, the way
/// the API server's strict field validation would refuse them. Shared by the Longhorn and Flux
/// manifest tests.
public struct StructuralSchemaValidator {
    public let schema: JSONValue

    public init(schema: JSONValue) {
        self.schema = schema
    }

    /// Problems with a whole object of `kind`: the schema walk plus the ObjectMeta rules the
    /// API server applies itself (CRD schemas leave `metadata` open).
    public func problems(in object: JSONValue, apiVersion: String = "longhorn.io/v1beta2", kind: String) -> [String] {
        var problems: [String] = []
        if object["apiVersion"]?.stringValue != apiVersion {
            problems.append("apiVersion: want \(apiVersion), got \(object["apiVersion"]?.jsonText ?? "nothing")")
        }
        if object["kind"]?.stringValue != kind { problems.append("kind: want \(kind), got \(object["kind"]?.jsonText ?? "nothing")") }
        var body = object
        body["metadata"] = nil
        body["apiVersion"] = nil
        body["kind"] = nil
        var schema = schema
        schema[path: ["properties", "metadata"]] = nil
        validate(body, schema, path: "", into: &problems)
        problems += Self.metadataProblems(object["metadata"])
        return problems
    }

    public static func metadataProblems(_ metadata: JSONValue?) -> [String] {
        guard let fields = metadata?.objectValue else { return ["metadata: missing or not an object"] }
        var problems: [String] = []
        let allowed: Set<String> = ["name", "generateName", "namespace", "labels", "annotations", "finalizers", "ownerReferences"]
        for key in fields.keys.sorted() where !allowed.contains(key) { problems.append("metadata.\(key): unknown field") }
        if fields["name"]?.stringValue?.isEmpty != false { problems.append("metadata.name: required") }
        for map in ["labels", "annotations"] {
            guard let value = fields[map] else { continue }
            guard let entries = value.objectValue else {
                problems.append("metadata.\(map): must be a map of strings")
                continue
            }
            for (key, entry) in entries where entry.stringValue == nil { problems.append("metadata.\(map).\(key): must be a string") }
        }
        return problems
    }

    private func validate(_ value: JSONValue, _ schema: JSONValue, path: String, into problems: inout [String]) {
        let at = path.isEmpty ? "<root>" : path
        if value == .null {
            if schema["nullable"]?.boolValue != true { problems.append("\(at): null is not allowed") }
            return
        }
        if let type = schema["type"]?.stringValue, !Self.matches(value, type: type) {
            problems.append("\(at): want \(type), got \(value.jsonText.prefix(60))")
            return
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) {
            problems.append("\(at): \(value.jsonText) is not one of \(options.map(\.jsonText).joined(separator: ", "))")
        }
        if let minimum = schema["minimum"]?.numberValue, let number = value.numberValue, number < minimum {
            problems.append("\(at): \(number) is below the minimum \(minimum)")
        }
        if let format = schema["format"]?.stringValue, let text = value.stringValue {
            switch format {
            case "int64" where Int64(text) == nil: problems.append("\(at): \"\(text)\" is not an int64 in a string")
            case "date-time" where !Self.isDateTime(text): problems.append("\(at): \"\(text)\" is not an RFC 3339 date-time")
            default: break
            }
        }
        switch value {
        case .object(let fields):
            for key in (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue) where fields[key] == nil {
                problems.append("\(path.isEmpty ? key : "\(path).\(key)"): required")
            }
            let preserve = schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
            let properties = schema["properties"]?.objectValue ?? [:]
            for key in fields.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                guard let field = fields[key] else { continue }
                if let sub = properties[key] {
                    validate(field, sub, path: child, into: &problems)
                } else if let additional = schema["additionalProperties"], additional != .bool(false) {
                    if additional.objectValue != nil { validate(field, additional, path: child, into: &problems) }
                } else if !preserve {
                    problems.append("\(child): unknown field")
                }
            }
        case .array(let items):
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() { validate(item, itemSchema, path: "\(path)[\(index)]", into: &problems) }
            }
        default:
            break
        }
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool): return true
        case ("integer", .number(let number)): return number.rounded() == number
        case ("number", .number): return true
        default: return false
        }
    }

    static func isDateTime(_ text: String) -> Bool {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return plain.date(from: text) != nil || fractional.date(from: text) != nil
    }
}
