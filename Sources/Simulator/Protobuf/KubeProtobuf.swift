import Foundation
import KubeModels

/// Turns a Kubernetes protobuf request body (`application/vnd.kubernetes.protobuf`) into the JSON
/// object it stands for, for the kinds `kubectl create <kind>` sends that way.
///
/// The body is the 4-byte magic `k8s\0` and a `runtime.Unknown` message: the type (apiVersion and
/// kind) and the object's own message. Field numbers come from `KubeProtobufSchema`. A field the
/// schema does not know fails the request, unless it holds only zero values (Go's marshaller
/// writes every non-pointer field), so nothing a client sent is ever dropped without a word.
enum KubeProtobuf {
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func decode(_ data: Data) throws(Failure) -> JSONValue {
        let bytes = [UInt8](data)
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else {
            throw Failure(description: "the body does not start with the Kubernetes protobuf magic k8s\\0")
        }
        var apiVersion = ""
        var kind = ""
        var raw: ArraySlice<UInt8> = []
        var reader = ProtobufReader(bytes[4...])
        do {
            while let (field, value) = try reader.next() {
                switch (field, value) {
                case (1, .bytes(let typeMeta)):
                    var typeReader = ProtobufReader(typeMeta)
                    while let (typeField, typeValue) = try typeReader.next() {
                        guard case .bytes(let text) = typeValue else { continue }
                        if typeField == 1 { apiVersion = String(decoding: text, as: UTF8.self) }
                        if typeField == 2 { kind = String(decoding: text, as: UTF8.self) }
                    }
                case (2, .bytes(let body)): raw = body
                case (3, .bytes(let encoding)) where !encoding.isEmpty:
                    throw Failure(description: "contentEncoding \(String(decoding: encoding, as: UTF8.self)) is not supported")
                default: break
                }
            }
        } catch let error as ProtobufReader.Malformed {
            throw Failure(description: "malformed protobuf envelope: \(error)")
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(description: "\(error)")
        }
        guard let message = KubeProtobufSchema.kinds["\(apiVersion)/\(kind)"] else {
            let known = KubeProtobufSchema.kinds.keys.sorted().joined(separator: ", ")
            throw Failure(
                description:
                    "protobuf bodies of \(apiVersion.isEmpty ? "an unnamed type" : "\(apiVersion) \(kind)") are not decoded by the simulator (it decodes \(known)); send JSON, e.g. `kubectl create -f`"
            )
        }
        var object = try decodeMessage(raw, type: message, path: kind)
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return .object(object)
    }

    private static func decodeMessage(_ bytes: ArraySlice<UInt8>, type: String, path: String) throws(Failure) -> [String: JSONValue] {
        guard let fields = KubeProtobufSchema.messages[type] else {
            throw Failure(description: "\(path): message type \(type) is missing from the schema")
        }
        var object: [String: JSONValue] = [:]
        var reader = ProtobufReader(bytes)
        while true {
            let next: (field: Int, value: ProtobufReader.WireValue)?
            do { next = try reader.next() } catch { throw Failure(description: "\(path): \(error)") }
            guard let (number, value) = next else { break }
            guard let field = fields[number] else {
                if case .bytes(let nested) = value, ProtobufReader.isZeroMessage(nested) { continue }
                if value.isEmpty { continue }
                throw Failure(
                    description:
                        "\(path): field \(number) of \(type) is not known to the simulator and is not empty; send this object as JSON (kubectl create -f)")
            }
            let fieldPath = "\(path).\(field.name)"
            if case .map(let valueKind) = field.kind {
                guard case .bytes(let entry) = value else { throw Failure(description: "\(fieldPath): a map entry must be length-delimited") }
                let (key, item) = try mapEntry(entry, valueKind: valueKind, path: fieldPath)
                var map = object[field.name]?.objectValue ?? [:]
                map[key] = item
                object[field.name] = .object(map)
                continue
            }
            let decoded = try scalar(value, kind: field.kind, path: fieldPath)
            if field.inline {
                guard case .object(let inner) = decoded else { continue }
                object.merge(inner) { _, new in new }
                continue
            }
            if field.repeated {
                // Packed repeated ints arrive as one length-delimited run of varints.
                if field.kind == .int, case .bytes(let run) = value {
                    object[field.name] = .array((object[field.name]?.arrayValue ?? []) + (try packedInts(run, path: fieldPath)))
                } else {
                    object[field.name] = .array((object[field.name]?.arrayValue ?? []) + [decoded ?? .null])
                }
                continue
            }
            if let decoded, field.pointer || !isZero(decoded) {
                object[field.name] = decoded
            } else {
                object[field.name] = nil
            }
        }
        return object
    }

    /// The JSON for one field value; nil for a zero Time (Go writes `null` and drops it).
    private static func scalar(_ value: ProtobufReader.WireValue, kind: KubeProtobufSchema.Field.Kind, path: String) throws(Failure) -> JSONValue? {
        switch (kind, value) {
        case (.int, .varint(let raw)): return .number(Double(Int64(bitPattern: raw)))
        case (.bool, .varint(let raw)): return .bool(raw != 0)
        case (.string, .bytes(let text)):
            guard let string = String(validating: text, as: UTF8.self) else { throw Failure(description: "\(path): not valid UTF-8") }
            return .string(string)
        case (.bytes, .bytes(let data)): return .string(Data(data).base64EncodedString())
        case (.quantity, .bytes(let message)):
            return try stringField(message, number: 1, path: path).map { .string($0) } ?? .string("")
        case (.time, .bytes(let message)):
            var seconds: Int64 = 0
            var reader = ProtobufReader(message)
            do {
                while let (number, item) = try reader.next() {
                    if number == 1, case .varint(let raw) = item { seconds = Int64(bitPattern: raw) }
                }
            } catch { throw Failure(description: "\(path): \(error)") }
            guard seconds != 0 else { return nil }
            return .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
        case (.intOrString, .bytes(let message)):
            var type: UInt64 = 0
            var number: Int64 = 0
            var text = ""
            var reader = ProtobufReader(message)
            do {
                while let (field, item) = try reader.next() {
                    switch (field, item) {
                    case (1, .varint(let raw)): type = raw
                    case (2, .varint(let raw)): number = Int64(Int32(truncatingIfNeeded: raw))
                    case (3, .bytes(let chars)): text = String(decoding: chars, as: UTF8.self)
                    default: break
                    }
                }
            } catch { throw Failure(description: "\(path): \(error)") }
            return type == 1 ? .string(text) : .number(Double(number))
        case (.message(let type), .bytes(let message)):
            return .object(try decodeMessage(message, type: type, path: path))
        default:
            throw Failure(description: "\(path): wire value \(value) does not fit field type \(kind)")
        }
    }

    private static func mapEntry(_ entry: ArraySlice<UInt8>, valueKind: KubeProtobufSchema.Field.Kind, path: String) throws(Failure) -> (String, JSONValue) {
        var key = ""
        var item: JSONValue = .string("")
        var reader = ProtobufReader(entry)
        do {
            while let (number, value) = try reader.next() {
                if number == 1, case .bytes(let text) = value { key = String(decoding: text, as: UTF8.self) }
                if number == 2 { item = try scalar(value, kind: valueKind, path: "\(path)[\(key)]") ?? .string("") }
            }
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(description: "\(path): \(error)")
        }
        return (key, item)
    }

    private static func stringField(_ message: ArraySlice<UInt8>, number: Int, path: String) throws(Failure) -> String? {
        var reader = ProtobufReader(message)
        do {
            while let (field, value) = try reader.next() {
                if field == number, case .bytes(let text) = value { return String(decoding: text, as: UTF8.self) }
            }
        } catch { throw Failure(description: "\(path): \(error)") }
        return nil
    }

    private static func packedInts(_ run: ArraySlice<UInt8>, path: String) throws(Failure) -> [JSONValue] {
        // A packed run is a sequence of bare varints; read them as field-1 varints by prefixing tags.
        var tagged: [UInt8] = []
        var index = run.startIndex
        while index < run.endIndex {
            tagged.append(0x08)
            repeat {
                tagged.append(run[index])
                index += 1
            } while index < run.endIndex && run[index - 1] >= 0x80
        }
        var reader = ProtobufReader(tagged[...])
        var values: [JSONValue] = []
        do {
            while let (_, value) = try reader.next() {
                if case .varint(let raw) = value { values.append(.number(Double(Int64(bitPattern: raw)))) }
            }
        } catch { throw Failure(description: "\(path): \(error)") }
        return values
    }

    private static func isZero(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .bool(let flag): !flag
        case .number(let number): number == 0
        case .string(let text): text.isEmpty
        case .array(let items): items.isEmpty
        case .object(let members): members.isEmpty
        }
    }
}
