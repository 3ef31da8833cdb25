import Foundation

/// Reads the protobuf wire format: tags, varints and length-delimited fields. Fixed-width fields
/// (wire types 1 and 5) are read too, though no Kubernetes type we decode uses them.
struct ProtobufReader {
    enum WireValue: Equatable {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed64(UInt64)
        case fixed32(UInt32)

        /// True for the encoding of a zero value: 0, or an empty string, bytes or message.
        var isEmpty: Bool {
            switch self {
            case .varint(let value), .fixed64(let value): value == 0
            case .fixed32(let value): value == 0
            case .bytes(let bytes): bytes.isEmpty
            }
        }
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private let bytes: ArraySlice<UInt8>
    private var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var isAtEnd: Bool { index >= bytes.endIndex }

    /// The next field: its number and value, or nil at the end.
    mutating func next() throws(Malformed) -> (field: Int, value: WireValue)? {
        guard !isAtEnd else { return nil }
        let key = try varint()
        let field = Int(key >> 3)
        guard field > 0, field < 1 << 29 else { throw Malformed(description: "field number \(field) at byte \(index)") }
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1: return (field, .fixed64(try fixed(8)))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.endIndex - index) else {
                throw Malformed(description: "field \(field) claims \(length) bytes, \(bytes.endIndex - index) left")
            }
            let end = index + Int(length)
            defer { index = end }
            return (field, .bytes(bytes[index..<end]))
        case 5: return (field, .fixed32(UInt32(try fixed(4))))
        case let wire: throw Malformed(description: "wire type \(wire) of field \(field) is not supported")
        }
    }

    private mutating func varint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { break }
            result |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
        throw Malformed(description: "truncated or overlong varint at byte \(index)")
    }

    private mutating func fixed(_ width: Int) throws(Malformed) -> UInt64 {
        guard bytes.endIndex - index >= width else { throw Malformed(description: "truncated fixed\(width * 8) at byte \(index)") }
        var result: UInt64 = 0
        for offset in 0..<width { result |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
        index += width
        return result
    }

    /// True when `bytes` parse as a message whose every field, all the way down, holds a zero
    /// value: what Go's protobuf marshaller writes for an unset non-pointer struct.
    static func isZeroMessage(_ bytes: ArraySlice<UInt8>, depth: Int = 0) -> Bool {
        guard depth < 32 else { return false }
        var reader = ProtobufReader(bytes)
        do {
            while let (_, value) = try reader.next() {
                switch value {
                case .bytes(let nested) where !nested.isEmpty:
                    guard isZeroMessage(nested, depth: depth + 1) else { return false }
                default:
                    guard value.isEmpty else { return false }
                }
            }
            return true
        } catch {
            return false
        }
    }
}
