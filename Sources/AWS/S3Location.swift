import Foundation

/// A Longhorn S3 backup target: bucket, optional region, and the key prefix under which Longhorn
/// keeps its `backupstore/` tree.
///
/// Longhorn accepts `s3://bucket@region/some/path/` and `s3://bucket/some/path` (region then comes from
/// the environment). The path is required, though it may be just `/`.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    public var bucket: String
    /// The region from `bucket@region`, or `nil` when the URL has none.
    public var region: String?
    /// The key prefix: no leading slash, and a trailing slash unless it is empty (`some/path/`).
    public var prefix: String

    public init(bucket: String, region: String?, prefix: String) {
        self.bucket = bucket
        self.region = region
        self.prefix = Self.normalizedPrefix(prefix)
    }

    static let expectedForms = "s3://bucket@region/path/ or s3://bucket/path"

    /// Parses a Longhorn backup target URL.
    /// - Throws: `AWSError` `.invalidBackupTargetURL` naming the URL, what is wrong, and the two
    ///   accepted forms.
    public init(parsing url: String) throws(AWSError) {
        let text = url.trimmingWhitespace()
        func invalid(_ why: String) -> AWSError {
            AWSError(
                code: .invalidBackupTargetURL,
                subject: "backup target \"\(url)\"",
                detail: why,
                hint: "write it as \(Self.expectedForms)"
            )
        }
        guard let schemeEnd = text.range(of: "://") else {
            throw invalid("it is not a URL")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "s3" else {
            throw invalid("the scheme is \"\(scheme)\", not s3 (this tool reads S3 backup targets only)")
        }
        let rest = text[schemeEnd.upperBound...]
        if rest.contains("?") || rest.contains("#") {
            throw invalid("it has a query or fragment, which backup target URLs do not use")
        }
        guard let slash = rest.firstIndex(of: "/") else {
            throw invalid("it has no path; add at least a trailing slash")
        }
        let authority = rest[..<slash]
        let path = rest[slash...]

        var bucket = String(authority)
        var region: String?
        if let at = authority.lastIndex(of: "@") {
            bucket = String(authority[..<at])
            let regionText = String(authority[authority.index(after: at)...])
            guard !regionText.isEmpty else {
                throw invalid("the region after \"@\" is empty")
            }
            guard regionText.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw invalid("\"\(regionText)\" is not a region name such as us-east-1")
            }
            region = regionText
        }
        guard !bucket.isEmpty else {
            throw invalid("the bucket name is empty")
        }
        guard !bucket.contains(where: { $0.isWhitespace || $0 == ":" || $0 == "@" }) else {
            throw invalid("\"\(bucket)\" is not a bucket name")
        }
        self.init(bucket: bucket, region: region, prefix: String(path))
    }

    /// The key of `relativePath` under this target's prefix (`some/path/` + `backupstore/...`).
    public func key(_ relativePath: String) -> String {
        let trimmed = relativePath.drop { $0 == "/" }
        return prefix + trimmed
    }

    /// The region from the URL, else the one the chain resolves from the environment or config.
    /// - Throws: `AWSError` `.noRegion` when neither has one.
    public func region(orFrom chain: AWSCredentialChain) throws(AWSError) -> String {
        if let region { return region }
        return try chain.resolveRegion()
    }

    /// Back in Longhorn's form, e.g. `s3://bucket@us-east-1/some/path/`.
    public var description: String {
        "s3://\(bucket)\(region.map { "@\($0)" } ?? "")/\(prefix)"
    }

    private static func normalizedPrefix(_ path: String) -> String {
        let trimmed = String(path.drop { $0 == "/" })
        if trimmed.isEmpty || trimmed.hasSuffix("/") {
            return trimmed
        }
        return trimmed + "/"
    }
}
