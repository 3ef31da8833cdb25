import Foundation

/// A minimal element tree for the small XML documents S3 returns (listings and error bodies).
///
/// Why a tree rather than a streaming delegate per response type: both users only need "child named X,
/// its text", and building the tree once keeps each parser a few readable lines.
///
/// Parsed here rather than with FoundationXML: that links libxml2 and, through it, ICU's 31 MB of
/// data into the container image, for documents this simple.
struct SimpleXMLElement: Sendable, Hashable {
    var name: String
    var text: String
    var children: [SimpleXMLElement]

    /// The first direct child called `name`.
    func child(_ name: String) -> SimpleXMLElement? {
        children.first { $0.name == name }
    }

    /// Every direct child called `name`, in document order.
    func children(_ name: String) -> [SimpleXMLElement] {
        children.filter { $0.name == name }
    }

    /// The text of the first direct child called `name`, or `nil` when there is no such child.
    func childText(_ name: String) -> String? {
        child(name)?.text
    }

    /// Parses `data` into its root element: elements by their qualified names (attributes are not
    /// kept), text with the five named entities and character references, CDATA,
    /// comments, processing instructions.
    /// - Returns: `nil` when the data is not well-formed XML, or declares a DTD (S3 never sends
    ///   one; refusing it means no entity is ever expanded or fetched).
    static func parse(_ data: Data) -> SimpleXMLElement? {
        var reader = XMLReader(bytes: [UInt8](data))
        return reader.document()
    }
}

/// A byte cursor over one document. Lives only inside `parse`.
private struct XMLReader {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    mutating func document() -> SimpleXMLElement? {
        var stack: [SimpleXMLElement] = []
        var root: SimpleXMLElement?
        var text: [UInt8] = []
        func flushText(into stack: inout [SimpleXMLElement], _ text: inout [UInt8]) -> Bool {
            defer { text.removeAll(keepingCapacity: true) }
            guard !text.isEmpty else { return true }
            guard let decoded = Self.decodeEntities(text) else { return false }
            if stack.isEmpty {
                // Only white space may stand outside the root element.
                return decoded.allSatisfy(\.isWhitespace)
            }
            stack[stack.count - 1].text += decoded
            return true
        }
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                text.append(bytes[index])
                index += 1
                continue
            }
            if starts(with: "<![CDATA[") {
                guard flushText(into: &stack, &text), !stack.isEmpty, let end = find("]]>", from: index + 9) else { return nil }
                stack[stack.count - 1].text += String(decoding: bytes[(index + 9)..<end], as: UTF8.self)
                index = end + 3
            } else if starts(with: "<!--") {
                guard let end = find("-->", from: index + 4) else { return nil }
                index = end + 3
            } else if starts(with: "<?") {
                guard let end = find("?>", from: index + 2) else { return nil }
                index = end + 2
            } else if starts(with: "<!") {
                return nil  // DOCTYPE and other declarations
            } else if starts(with: "</") {
                guard flushText(into: &stack, &text), let end = find(">", from: index + 2) else { return nil }
                let name = String(decoding: bytes[(index + 2)..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                guard let finished = stack.popLast(), finished.name == name else { return nil }
                index = end + 1
                if stack.isEmpty {
                    guard root == nil else { return nil }
                    root = finished
                } else {
                    stack[stack.count - 1].children.append(finished)
                }
            } else {
                guard flushText(into: &stack, &text), let end = tagEnd(from: index + 1) else { return nil }
                var inside = bytes[(index + 1)..<end]
                let selfClosing = inside.last == UInt8(ascii: "/")
                if selfClosing { inside = inside.dropLast() }
                let nameBytes = inside.prefix { !Self.isSpace($0) }
                guard !nameBytes.isEmpty else { return nil }
                let element = SimpleXMLElement(name: String(decoding: nameBytes, as: UTF8.self), text: "", children: [])
                index = end + 1
                // A second root element is not XML.
                if stack.isEmpty, root != nil { return nil }
                if selfClosing {
                    if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
                } else {
                    stack.append(element)
                }
            }
        }
        guard stack.isEmpty, flushText(into: &stack, &text) else { return nil }
        return root
    }

    /// The `>` closing a start tag, skipping quoted attribute values.
    func tagEnd(from start: Int) -> Int? {
        var quote: UInt8?
        var position = start
        while position < bytes.count {
            let byte = bytes[position]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: ">") {
                return position
            } else if byte == UInt8(ascii: "<") {
                return nil
            }
            position += 1
        }
        return nil
    }

    func starts(with marker: StaticString) -> Bool {
        let count = marker.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return marker.withUTF8Buffer { buffer in bytes[index..<(index + count)].elementsEqual(buffer) }
    }

    func find(_ marker: StaticString, from start: Int) -> Int? {
        marker.withUTF8Buffer { needle in
            guard needle.count > 0, bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
            var position = start
            while position <= bytes.count - needle.count {
                if bytes[position] == needle[0], bytes[position..<(position + needle.count)].elementsEqual(needle) { return position }
                position += 1
            }
            return nil
        }
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Text with `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` and `&#…;` replaced; nil for an unknown
    /// entity or a stray `&` (not well-formed).
    static func decodeEntities(_ text: [UInt8]) -> String? {
        guard text.contains(UInt8(ascii: "&")) else { return String(decoding: text, as: UTF8.self) }
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var position = 0
        while position < text.count {
            let byte = text[position]
            guard byte == UInt8(ascii: "&") else {
                output.append(byte)
                position += 1
                continue
            }
            guard let semicolon = text[position...].firstIndex(of: UInt8(ascii: ";")) else { return nil }
            let entity = String(decoding: text[(position + 1)..<semicolon], as: UTF8.self)
            let replacement: String
            switch entity {
            case "amp": replacement = "&"
            case "lt": replacement = "<"
            case "gt": replacement = ">"
            case "quot": replacement = "\""
            case "apos": replacement = "'"
            default:
                let scalarValue: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalarValue = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    scalarValue = UInt32(entity.dropFirst(), radix: 10)
                } else {
                    return nil
                }
                guard let scalarValue, let scalar = Unicode.Scalar(scalarValue) else { return nil }
                replacement = String(Character(scalar))
            }
            output += Array(replacement.utf8)
            position = semicolon + 1
        }
        return String(decoding: output, as: UTF8.self)
    }
}
