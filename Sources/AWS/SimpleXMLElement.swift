import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A minimal element tree for the small XML documents S3 returns (listings and error bodies).
///
/// Why a tree rather than a streaming delegate per response type: both users only need "child named X,
/// its text", and building the tree once keeps each parser a few readable lines.
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

    /// Parses `data` into its root element.
    /// - Returns: `nil` when the data is not well-formed XML (the caller decides what that means).
    static func parse(_ data: Data) -> SimpleXMLElement? {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false  // never fetch anything a response points at
        parser.delegate = builder
        guard parser.parse(), builder.failed == false else { return nil }
        return builder.root
    }
}

/// Collects elements on a stack while `XMLParser` walks the document. Lives only inside `parse`.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [SimpleXMLElement] = []
    var root: SimpleXMLElement?
    var failed = false

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        stack.append(SimpleXMLElement(name: elementName, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(
        _ parser: XMLParser,
        didEndElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?
    ) {
        guard let finished = stack.popLast() else {
            failed = true
            return
        }
        if stack.isEmpty {
            root = finished
        } else {
            stack[stack.count - 1].children.append(finished)
        }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        failed = true
    }
}
