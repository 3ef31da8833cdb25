import Foundation

/// Decoders for S3 response bodies.
public enum S3Response {
    /// One object in a listing.
    public struct ObjectSummary: Sendable, Hashable {
        public var key: String
        public var size: Int64
        /// The ETag without its surrounding quotes.
        public var eTag: String?
        /// As S3 writes it, e.g. `2026-11-20T10:00:00.000Z`.
        public var lastModified: String?
        public var storageClass: String?

        public init(key: String, size: Int64, eTag: String? = nil, lastModified: String? = nil, storageClass: String? = nil) {
            self.key = key
            self.size = size
            self.eTag = eTag
            self.lastModified = lastModified
            self.storageClass = storageClass
        }
    }

    /// One page of ListObjectsV2.
    public struct ListObjectsV2: Sendable, Hashable {
        public var bucket: String?
        public var prefix: String?
        public var delimiter: String?
        public var objects: [ObjectSummary]
        /// With a delimiter: the "directories" one level down, e.g. `backupstore/volumes/ab/`.
        public var commonPrefixes: [String]
        public var isTruncated: Bool
        /// Pass to the next request when `isTruncated`.
        public var nextContinuationToken: String?
        public var keyCount: Int?
        public var maxKeys: Int?
    }

    /// Parses a ListObjectsV2 (`ListBucketResult`) body. Keys, prefixes and the delimiter are
    /// URL-decoded when the response says `EncodingType` `url`.
    /// - Throws: `AWSError` `.malformedResponse` when the body is not a listing, a number does not parse,
    ///   or the page says it is truncated but gives no continuation token (following it would loop).
    ///   An S3 `<Error>` body (which S3 can send with status 200) becomes that error.
    public static func parseListObjectsV2(_ data: Data, bucket: String? = nil) throws(AWSError) -> ListObjectsV2 {
        guard let root = SimpleXMLElement.parse(data) else {
            throw malformed("ListObjectsV2 answer is not well-formed XML", bucket: bucket)
        }
        if root.name == "Error" {
            throw AWSError.s3Response(status: 200, body: data, bucket: bucket)
        }
        guard root.name == "ListBucketResult" else {
            throw malformed("expected a ListBucketResult, got <\(root.name)>", bucket: bucket)
        }
        let urlEncoded = root.childText("EncodingType")?.trimmingWhitespace().lowercased() == "url"
        func decoded(_ text: String) -> String {
            urlEncoded ? AWSURIEncoding.decode(text, plusIsSpace: true) : text
        }

        var objects: [ObjectSummary] = []
        for element in root.children("Contents") {
            guard let key = element.childText("Key") else {
                throw malformed("a <Contents> entry has no <Key>", bucket: bucket)
            }
            let sizeText = element.childText("Size")?.trimmingWhitespace() ?? ""
            guard let size = Int64(sizeText) else {
                throw malformed("object \(key) has size \"\(sizeText)\", not a number", bucket: bucket)
            }
            objects.append(
                ObjectSummary(
                    key: decoded(key),
                    size: size,
                    eTag: element.childText("ETag").map { unquoted($0.trimmingWhitespace()) },
                    lastModified: element.childText("LastModified")?.trimmingWhitespace(),
                    storageClass: element.childText("StorageClass")?.trimmingWhitespace()
                )
            )
        }
        let commonPrefixes = root.children("CommonPrefixes").compactMap { $0.childText("Prefix").map(decoded) }

        let truncatedText = root.childText("IsTruncated")?.trimmingWhitespace().lowercased() ?? "false"
        guard truncatedText == "true" || truncatedText == "false" else {
            throw malformed("IsTruncated is \"\(truncatedText)\"", bucket: bucket)
        }
        let isTruncated = truncatedText == "true"
        let token = root.childText("NextContinuationToken")?.trimmingWhitespace()
        if isTruncated && (token ?? "").isEmpty {
            throw malformed("the listing is truncated but has no NextContinuationToken", bucket: bucket)
        }

        return ListObjectsV2(
            bucket: root.childText("Name"),
            prefix: root.childText("Prefix").map(decoded),
            delimiter: root.childText("Delimiter").map(decoded),
            objects: objects,
            commonPrefixes: commonPrefixes,
            isTruncated: isTruncated,
            nextContinuationToken: token.flatMap { $0.isEmpty ? nil : $0 },
            keyCount: try optionalInt(root.childText("KeyCount"), "KeyCount", bucket: bucket),
            maxKeys: try optionalInt(root.childText("MaxKeys"), "MaxKeys", bucket: bucket)
        )
    }

    // MARK: - Helpers

    private static func optionalInt(_ text: String?, _ field: String, bucket: String?) throws(AWSError) -> Int? {
        guard let text = text?.trimmingWhitespace(), !text.isEmpty else { return nil }
        guard let value = Int(text) else {
            throw malformed("\(field) is \"\(text)\", not a number", bucket: bucket)
        }
        return value
    }

    private static func unquoted(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        return String(text.dropFirst().dropLast())
    }

    private static func malformed(_ detail: String, bucket: String?) -> AWSError {
        AWSError(
            code: .malformedResponse,
            subject: bucket.map { "s3://\($0)" },
            detail: detail,
            hint: "the endpoint may not be S3-compatible; check AWS_ENDPOINTS"
        )
    }
}
