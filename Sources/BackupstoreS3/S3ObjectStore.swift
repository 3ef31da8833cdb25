import AWS
import Backupstore
import Foundation

/// A Longhorn backup store in an S3 bucket, as Backupstore's ``ObjectStore``: the bridge that lets
/// ``BackupReader`` verify a backup straight from S3.
///
/// Keys are used as given: the target URL's path prefix is part of the ``BackupstoreLayout`` the
/// reader builds keys with. Failures become `BackupstoreError`s that keep the `AWSError` as
/// `underlying`, so the CLI can still tell "wrong keys" from "store down" from "block missing":
/// - `NoSuchKey` (and a body-less 404) → `.notFound` with the key;
/// - anything else → `.io` with the condensed S3 `Code: Message` and its hint.
public struct S3ObjectStore: ObjectStore {
    public let client: S3Client
    public let bucket: String

    public init(client: S3Client, bucket: String) {
        self.client = client
        self.bucket = bucket
    }

    public func get(_ key: String) async throws -> Data {
        try await translating(key) { () async throws(AWSError) -> Data in
            try await client.getObject(bucket: bucket, key: key)
        }
    }

    /// The HTTP client stops reading past `maxBytes`, so an oversized object never sits in memory.
    public func get(_ key: String, maxBytes: Int) async throws -> Data {
        try await translating(key) { () async throws(AWSError) -> Data in
            try await client.getObject(bucket: bucket, key: key, maxBytes: maxBytes)
        }
    }

    public func get(_ key: String, range: Range<Int64>) async throws -> Data {
        guard range.lowerBound >= 0, range.upperBound > range.lowerBound else { return Data() }
        let inclusive = UInt64(range.lowerBound)...UInt64(range.upperBound - 1)
        return try await translating(key) { () async throws(AWSError) -> Data in
            try await rangedGet(key, inclusive)
        }
    }

    /// A ranged GET where a range wholly past the end is empty, as an HTTP range is clamped.
    private func rangedGet(_ key: String, _ range: ClosedRange<UInt64>) async throws(AWSError) -> Data {
        do {
            return try await client.getObject(bucket: bucket, key: key, range: range)
        } catch {
            guard error.code == .invalidRange else { throw error }
            return Data()
        }
    }

    public func put(_ key: String, data: Data) async throws {
        try await translating(key) { () async throws(AWSError) in
            try await client.putObject(bucket: bucket, key: key, body: data)
        }
    }

    public func list(prefix: String) async throws -> [String] {
        let objects = try await translating(prefix) { () async throws(AWSError) -> [S3Response.ObjectSummary] in
            try await client.listAllObjects(bucket: bucket, prefix: prefix)
        }
        return objects.map { $0.key }.sorted()
    }

    public func head(_ key: String) async throws -> ObjectInfo? {
        let head = try await translating(key) { () async throws(AWSError) -> S3Client.ObjectHead? in
            try await client.headObject(bucket: bucket, key: key)
        }
        return head.map { ObjectInfo(size: $0.size) }
    }

    public func delete(_ key: String) async throws {
        try await translating(key) { () async throws(AWSError) in
            try await client.deleteObject(bucket: bucket, key: key)
        }
    }

    /// Runs one S3 call and turns its failure into the store's error type.
    private func translating<T>(_ key: String, _ body: () async throws(AWSError) -> T) async throws(BackupstoreError) -> T {
        do {
            return try await body()
        } catch {
            throw translate(error, key: key)
        }
    }

    private func translate(_ error: AWSError, key: String) -> BackupstoreError {
        let subject = "s3://\(bucket)/\(key)"
        if error.code == .noSuchKey || (error.code == .notFound && error.httpStatus == 404) {
            return BackupstoreError(.notFound, subject: subject, detail: "object does not exist", key: key, underlying: error)
        }
        return BackupstoreError(.io, subject: subject, detail: error.detail, hint: error.hint, key: key, underlying: error)
    }
}
