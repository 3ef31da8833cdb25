import Foundation

/// The S3 calls a backup verifier needs, over ``AWSHTTPClient``: GetObject (whole or a range),
/// HeadObject, ListObjectsV2 (all pages), PutObject, DeleteObject and CreateBucket (for tests and
/// benchmarks that seed a store).
///
/// Addressing (path or virtual-hosted style, custom endpoint) comes from ``S3Addressing``; every
/// failure is an ``AWSError`` whose subject is `s3://bucket/key`.
public struct S3Client: Sendable {
    public let http: AWSHTTPClient
    public let addressing: S3Addressing
    public let signer: SigV4Signer

    public init(http: AWSHTTPClient, addressing: S3Addressing, credentials: AWSCredentials) {
        self.http = http
        self.addressing = addressing
        self.signer = SigV4Signer(credentials: credentials, region: addressing.region, service: "s3")
    }

    /// What HeadObject tells about an object.
    public struct ObjectHead: Sendable, Hashable {
        public var size: Int64
        public var eTag: String?
    }

    // MARK: - Objects

    /// The whole object, or the inclusive byte `range` of it.
    /// - Throws: `AWSError` with the S3 code (`NoSuchKey`, `NoSuchBucket`, `AccessDenied`, …) or
    ///   `.endpointUnreachable`.
    public func getObject(bucket: String, key: String, range: ClosedRange<UInt64>? = nil, maxBytes: Int = 256 << 20) async throws(AWSError) -> Data {
        let request = addressing.getObject(bucket: bucket, key: key, range: range)
        let response = try await send(request, bucket: bucket, key: key, idempotent: true, maxBytes: maxBytes)
        guard response.isSuccess else { throw error(response, bucket: bucket, key: key) }
        return response.body
    }

    /// The object's size and ETag, or `nil` when it does not exist.
    ///
    /// A HEAD answer has no body, so a missing bucket also reads as "no such object" here; use
    /// ``headBucket(_:)`` to tell them apart.
    public func headObject(bucket: String, key: String) async throws(AWSError) -> ObjectHead? {
        let request = addressing.headObject(bucket: bucket, key: key)
        let response = try await send(request, bucket: bucket, key: key, idempotent: true)
        if response.status == 404 { return nil }
        guard response.isSuccess else { throw error(response, bucket: bucket, key: key) }
        guard let length = response.header("Content-Length").flatMap({ Int64($0) }) else {
            throw AWSError(
                code: .malformedResponse, subject: "s3://\(bucket)/\(key)", detail: "HeadObject answered without a Content-Length",
                hint: "the endpoint may not be S3-compatible; check AWS_ENDPOINTS")
        }
        let eTag = response.header("ETag").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        return ObjectHead(size: length, eTag: eTag)
    }

    /// Creates or replaces an object.
    public func putObject(bucket: String, key: String, body: Data, contentType: String? = nil) async throws(AWSError) {
        let request = addressing.putObject(bucket: bucket, key: key, body: body, contentType: contentType)
        // A whole-object PUT may be repeated: the second write leaves the same object.
        let response = try await send(request, bucket: bucket, key: key, idempotent: true)
        guard response.isSuccess else { throw error(response, bucket: bucket, key: key) }
    }

    /// Deletes an object; deleting a missing object succeeds, as in S3.
    public func deleteObject(bucket: String, key: String) async throws(AWSError) {
        let request = addressing.objectRequest(method: "DELETE", bucket: bucket, key: key)
        let response = try await send(request, bucket: bucket, key: key, idempotent: true)
        guard response.isSuccess || response.status == 404 else { throw error(response, bucket: bucket, key: key) }
    }

    // MARK: - Listing

    /// One page of ListObjectsV2.
    public func listObjectsV2Page(
        bucket: String, prefix: String?, continuationToken: String? = nil, maxKeys: Int? = nil, delimiter: String? = nil
    ) async throws(AWSError) -> S3Response.ListObjectsV2 {
        let request = addressing.listObjectsV2(
            bucket: bucket, prefix: prefix, continuationToken: continuationToken, maxKeys: maxKeys, delimiter: delimiter)
        let response = try await send(request, bucket: bucket, key: nil, idempotent: true)
        guard response.isSuccess else { throw error(response, bucket: bucket, key: nil) }
        return try S3Response.parseListObjectsV2(response.body, bucket: bucket)
    }

    /// Every object under `prefix`, following continuation tokens to the last page.
    /// - Throws: `AWSError` `.malformedResponse` if the store hands back a token it already gave
    ///   (following it would loop forever).
    public func listAllObjects(bucket: String, prefix: String?, pageSize: Int? = nil) async throws(AWSError) -> [S3Response.ObjectSummary] {
        var objects: [S3Response.ObjectSummary] = []
        var token: String?
        var seenTokens: Set<String> = []
        repeat {
            let page = try await listObjectsV2Page(bucket: bucket, prefix: prefix, continuationToken: token, maxKeys: pageSize)
            objects.append(contentsOf: page.objects)
            token = page.isTruncated ? page.nextContinuationToken : nil
            if let next = token, !seenTokens.insert(next).inserted {
                throw AWSError(
                    code: .malformedResponse, subject: "s3://\(bucket)/\(prefix ?? "")",
                    detail: "ListObjectsV2 returned the continuation token \(next) twice",
                    hint: "the endpoint's paging is broken; report it to the store's vendor")
            }
        } while token != nil
        return objects
    }

    // MARK: - Buckets

    /// Whether the bucket exists and these credentials may use it.
    /// - Returns: `false` for 404; throws for 403 and other failures.
    public func headBucket(_ bucket: String) async throws(AWSError) -> Bool {
        let request = addressing.bucketRequest(method: "HEAD", bucket: bucket)
        let response = try await send(request, bucket: bucket, key: nil, idempotent: true)
        if response.status == 404 { return false }
        guard response.isSuccess else { throw error(response, bucket: bucket, key: nil) }
        return true
    }

    /// Creates a bucket (tests and benchmarks seed their own store). An existing bucket owned by
    /// the caller is success.
    public func createBucket(_ bucket: String) async throws(AWSError) {
        var request = addressing.bucketRequest(method: "PUT", bucket: bucket)
        if addressing.region != "us-east-1" {
            let body =
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(addressing.region)</LocationConstraint></CreateBucketConfiguration>"
            request.body = Data(body.utf8)
        }
        let response = try await send(request, bucket: bucket, key: nil, idempotent: true)
        if response.isSuccess { return }
        let failure = error(response, bucket: bucket, key: nil)
        if failure.code.rawValue == "BucketAlreadyOwnedByYou" { return }
        throw failure
    }

    // MARK: - Helpers

    private func send(
        _ request: AWSHTTPRequest, bucket: String, key: String?, idempotent: Bool, maxBytes: Int = 16 << 20
    ) async throws(AWSError) -> AWSHTTPResponse {
        let subject = key.map { "s3://\(bucket)/\($0)" } ?? "s3://\(bucket)"
        let call = AWSHTTPClient.Call(signer: signer, subject: subject, idempotent: idempotent, maxBodyBytes: maxBytes)
        return try await http.send(request, call: call) { response in
            AWSError.s3Response(status: response.status, body: response.body, bucket: bucket, key: key, requestID: response.requestID)
        }
    }

    private func error(_ response: AWSHTTPResponse, bucket: String, key: String?) -> AWSError {
        AWSError.s3Response(status: response.status, body: response.body, bucket: bucket, key: key, requestID: response.requestID)
    }
}
