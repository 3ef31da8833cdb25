import Foundation
import Testing

@testable import AWS

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Our XML reader (no libxml2 in the image) against Foundation's XMLParser, which the tests may
/// still link: the same tree for every document S3 sends and the corner cases around them, and
/// nil wherever the document is not well-formed.
@Suite struct SimpleXMLElementTests {
    static let documents: [String] = [
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>backupstore/</Prefix>\
        <KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>\
        <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>\
        <Contents><Key>backupstore/volumes/a&amp;b/volume.cfg</Key><LastModified>2026-12-01T10:00:00.000Z</LastModified>\
        <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>412</Size><StorageClass>STANDARD</StorageClass></Contents>\
        <CommonPrefixes><Prefix>backupstore/volumes/</Prefix></CommonPrefixes></ListBucketResult>
        """,
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <Error>
          <Code>NoSuchKey</Code>
          <Message>The specified key does not exist.</Message>
          <Key>a &lt;b&gt; &apos;c&apos; &#65;&#x42;</Key>
          <RequestId>4442587FB7D0A2F9</RequestId>
        </Error>
        """,
        "<a><b/><c x='1' y=\"2>3\">t</c><!-- note --><d><![CDATA[<raw> & text]]></d></a>",
        "<s3:Result xmlns:s3=\"urn:x\"><s3:Key>k</s3:Key></s3:Result>",
        "\u{FEFF}<a>é ü 😀</a>",
        "<a>one<b>two</b>three</a>",
        "<?xml version=\"1.0\"?>\n\n<empty/>\n",
    ]

    static let malformed: [String] = [
        "", "plain text", "<a>", "<a></b>", "<a><b></a></b>", "<a/><b/>", "<a>&unknown;</a>", "<a>& stray</a>",
        "<a><![CDATA[never closed</a>", "<a><!-- never closed</a>", "text<a/>",
        "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
    ]

    @Test(arguments: documents)
    func sameTreeAsFoundationsParser(_ document: String) throws {
        let ours = try #require(SimpleXMLElement.parse(Data(document.utf8)), "ours refused a well-formed document")
        #expect(ours == Self.referenceTree(Data(document.utf8)))
    }

    @Test(arguments: malformed)
    func notWellFormedIsNil(_ document: String) {
        #expect(SimpleXMLElement.parse(Data(document.utf8)) == nil)
    }

    @Test func listingFieldsAndEntitiesComeOutDecoded() throws {
        let root = try #require(SimpleXMLElement.parse(Data(Self.documents[0].utf8)))
        #expect(root.name == "ListBucketResult")
        #expect(root.children("Contents").first?.childText("Key") == "backupstore/volumes/a&b/volume.cfg")
        #expect(root.children("Contents").first?.childText("ETag") == "\"9b2cf535f27731c974343645a3985328\"")
        let error = try #require(SimpleXMLElement.parse(Data(Self.documents[1].utf8)))
        #expect(error.childText("Key") == "a <b> 'c' AB")
    }

    /// The tree FoundationXML's XMLParser builds, the way this type was built before.
    static func referenceTree(_ data: Data) -> SimpleXMLElement? {
        final class Builder: NSObject, XMLParserDelegate {
            var stack: [SimpleXMLElement] = []
            var root: SimpleXMLElement?
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                stack.append(SimpleXMLElement(name: name, text: "", children: []))
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) {
                if !stack.isEmpty { stack[stack.count - 1].text += string }
            }
            func parser(_ parser: XMLParser, foundCDATA block: Data) {
                if !stack.isEmpty { stack[stack.count - 1].text += String(decoding: block, as: UTF8.self) }
            }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                guard let done = stack.popLast() else { return }
                if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
            }
        }
        let builder = Builder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse() else { return nil }
        return builder.root
    }
}
