import AWS
import Foundation
import Testing

/// The S3 client against a real S3 server that checks every signature (SeaweedFS with keys).
@Suite("S3 client against SeaweedFS")
struct S3ClientTests {
    @Test("put, get, ranged get, head, delete round-trip with SigV4 accepted")
    func objectRoundTrip() async throws {
        let services = try TestServices.load()
        let bucket = TestServices.uniqueBucket("objects")
        try await services.withS3 { client in
            try await client.createBucket(bucket)
            try await client.createBucket(bucket)  // an existing bucket of ours is fine
            let body = Data((0..<5000).map { UInt8($0 % 251) })
            // A key with characters that must be percent-encoded exactly as signed.
            let key = "dir one/sub+dir/obj~name=1&x.bin"
            try await client.putObject(bucket: bucket, key: key, body: body)
            #expect(try await client.getObject(bucket: bucket, key: key) == body)
            #expect(try await client.getObject(bucket: bucket, key: key, range: 10...19) == body[10...19])
            let head = try await client.headObject(bucket: bucket, key: key)
            #expect(head?.size == 5000)
            #expect(try await client.headObject(bucket: bucket, key: "missing") == nil)
            #expect(try await client.headBucket(bucket))
            try await client.deleteObject(bucket: bucket, key: key)
            #expect(try await client.headObject(bucket: bucket, key: key) == nil)
            try await client.deleteObject(bucket: bucket, key: key)  // deleting twice succeeds
        }
    }

    @Test("ListObjectsV2 follows continuation tokens across pages")
    func pagedListing() async throws {
        let services = try TestServices.load()
        let bucket = TestServices.uniqueBucket("paging")
        try await services.withS3 { client in
            try await client.createBucket(bucket)
            let keys = (0..<7).map { "prefix/item-\($0).txt" } + ["other/outside.txt"]
            for key in keys { try await client.putObject(bucket: bucket, key: key, body: Data(key.utf8)) }
            let firstPage = try await client.listObjectsV2Page(bucket: bucket, prefix: "prefix/", maxKeys: 3)
            #expect(firstPage.objects.count == 3)
            #expect(firstPage.isTruncated)
            let all = try await client.listAllObjects(bucket: bucket, prefix: "prefix/", pageSize: 3)
            #expect(all.map(\.key).sorted() == keys.filter { $0.hasPrefix("prefix/") }.sorted())
        }
    }

    @Test("a wrong secret key is SignatureDoesNotMatch, an unknown key id InvalidAccessKeyId")
    func wrongKeys() async throws {
        let services = try TestServices.load()
        let bucket = TestServices.uniqueBucket("keys")
        try await services.withS3 { client in try await client.createBucket(bucket) }

        let wrongSecret = AWSCredentials(accessKeyID: services.accessKey, secretAccessKey: "not-the-secret")
        let signatureError = await #expect(throws: AWSError.self) {
            try await services.withS3(credentials: wrongSecret) { client in
                _ = try await client.getObject(bucket: bucket, key: "any")
            }
        }
        #expect(signatureError?.code == .signatureDoesNotMatch)
        #expect(signatureError?.subject == "s3://\(bucket)/any")
        #expect(signatureError?.hint?.contains("AWS_SECRET_ACCESS_KEY") == true)

        let unknownKey = AWSCredentials(accessKeyID: "AKIDUNKNOWN", secretAccessKey: services.secretKey)
        let keyError = await #expect(throws: AWSError.self) {
            try await services.withS3(credentials: unknownKey) { client in
                _ = try await client.listAllObjects(bucket: bucket, prefix: nil)
            }
        }
        #expect(keyError?.code == .invalidAccessKeyId)
        // Request ids are for debug logs, never in what the operator reads.
        if let keyError, let requestID = keyError.requestID {
            #expect(!keyError.description.contains(requestID))
        }
    }

    @Test("a missing bucket is NoSuchBucket naming the bucket")
    func missingBucket() async throws {
        let services = try TestServices.load()
        let bucket = TestServices.uniqueBucket("absent")
        let error = await #expect(throws: AWSError.self) {
            try await services.withS3 { client in _ = try await client.getObject(bucket: bucket, key: "volume.cfg") }
        }
        #expect(error?.code == .noSuchBucket)
        #expect(error?.description.contains(bucket) == true)
    }

    @Test("a missing key is NoSuchKey")
    func missingKey() async throws {
        let services = try TestServices.load()
        let bucket = TestServices.uniqueBucket("nokey")
        let error = await #expect(throws: AWSError.self) {
            try await services.withS3 { client in
                try await client.createBucket(bucket)
                _ = try await client.getObject(bucket: bucket, key: "a/b.blk")
            }
        }
        #expect(error?.code == .noSuchKey)
    }

    @Test("an endpoint that is down is EndpointUnreachable after the retries")
    func endpointDown() async throws {
        let services = try TestServices.load()
        let retry = AWSRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10))
        let error = await #expect(throws: AWSError.self) {
            try await services.withS3(endpoint: unreachableEndpoint, retry: retry) { client in
                _ = try await client.getObject(bucket: "bucket", key: "key")
            }
        }
        #expect(error?.code == .endpointUnreachable)
        #expect(error?.detail.contains("127.0.0.1:1") == true)
        #expect(error?.detail.contains("2 attempts") == true)
    }
}
