/// Percent-encoding and canonical ordering exactly as SigV4 defines them.
///
/// Why our own and not `addingPercentEncoding`: Foundation's character sets leave characters such as
/// `$`, `!`, `*` or `'` alone, while AWS encodes every byte except `A-Z a-z 0-9 - _ . ~`. A single stray
/// character then gives `SignatureDoesNotMatch`.
public enum AWSURIEncoding {
    /// Percent-encodes the UTF-8 bytes of `text`, leaving only the unreserved characters
    /// (`A-Z a-z 0-9 - _ . ~`) and, when `keepSlash` is true, `/`. Hex digits are upper case.
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%"
                out.unicodeScalars.append(hexDigits[Int(byte >> 4)])
                out.unicodeScalars.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// The canonical query string: each name and value encoded, pairs sorted by encoded name and then
    /// encoded value (byte order), a missing value written as `name=`.
    public static func canonicalQuery(_ items: [AWSHTTPRequest.QueryItem]) -> String {
        items
            .map { (encode($0.name), encode($0.value ?? "")) }
            .sorted { lhs, rhs in
                if lhs.0 != rhs.0 { return precedesInByteOrder(lhs.0, rhs.0) }
                return precedesInByteOrder(lhs.1, rhs.1)
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Removes `.` and `..` segments and empty segments (`//`) as RFC 3986 §5.2.4 and AWS require for
    /// every service except S3. A leading slash is kept; a trailing slash is kept when anything remains.
    public static func normalizedPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var kept: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".":
                continue
            case "..":
                if !kept.isEmpty { kept.removeLast() }
            default:
                kept.append(segment)
            }
        }
        let leading = path.hasPrefix("/") ? "/" : ""
        let trailing = (path.hasSuffix("/") && !kept.isEmpty) ? "/" : ""
        return leading + kept.joined(separator: "/") + trailing
    }

    /// Decodes `%XX` escapes; when `plusIsSpace` is true a `+` becomes a space first (the form
    /// encoding S3 uses for `encoding-type=url` listings). Invalid escapes are left as they are.
    public static func decode(_ text: String, plusIsSpace: Bool = false) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if plusIsSpace && byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let high = hexValue(iterator[iterator.startIndex]),
                let low = hexValue(iterator[iterator.startIndex + 1])
            {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Byte-wise (UTF-8) ordering, which is what AWS sorts by; Swift's `<` on `String` compares by
    /// Unicode rules instead.
    static func precedesInByteOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    // MARK: - Bytes

    private static let hexDigits: [Unicode.Scalar] = Array("0123456789ABCDEF".unicodeScalars)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
