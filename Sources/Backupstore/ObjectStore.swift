import Foundation

/// A flat key/value object store with S3's semantics: whole-object puts, keys with "/" separators.
///
/// Implementations throw `BackupstoreError` with code `.notFound` (subject and `key` = the key) for a
/// missing object, `.invalidArgument` for a key they cannot hold, and `.io` for anything else.
public protocol ObjectStore: Sendable {
    /// The whole object.
    func get(_ key: String) async throws -> Data
    /// The whole object, refused (code `.outputLimitExceeded`) when it is larger than `maxBytes`:
    /// a hostile store must not make the reader hold gigabytes per request.
    func get(_ key: String, maxBytes: Int) async throws -> Data
    /// Part of an object: `range` is clamped to the object's end (as an HTTP Range request is).
    func get(_ key: String, range: Range<Int64>) async throws -> Data
    /// Creates or replaces an object; readers never see a partial object.
    func put(_ key: String, data: Data) async throws
    /// Every key that starts with `prefix`, at any depth, sorted.
    func list(prefix: String) async throws -> [String]
    /// The object's size, or nil when it does not exist.
    func head(_ key: String) async throws -> ObjectInfo?
    /// Removes an object; removing a missing object succeeds (as S3 DeleteObject does).
    func delete(_ key: String) async throws
}

/// What `head` knows about an object.
public struct ObjectInfo: Sendable, Hashable {
    public var size: Int64
    public init(size: Int64) { self.size = size }
}

extension ObjectStore {
    /// Local stores (files, memory) read the object and check its size afterwards.
    public func get(_ key: String, maxBytes: Int) async throws -> Data {
        let data = try await get(key)
        guard data.count <= maxBytes else { throw Self.tooLarge(key, maxBytes) }
        return data
    }

    static func tooLarge(_ key: String, _ maxBytes: Int) -> BackupstoreError {
        BackupstoreError(
            .outputLimitExceeded, subject: key, detail: "object \(key) is larger than the \(maxBytes) bytes it may hold",
            hint: "a block is at most about its block size and a cfg lists at most one entry per block; the store holds something else under this key", key: key
        )
    }

    /// Whether the object exists.
    public func exists(_ key: String) async throws -> Bool {
        try await head(key) != nil
    }

    /// Default ranged read: fetches the whole object and slices it. Stores with real ranged reads override this.
    public func get(_ key: String, range: Range<Int64>) async throws -> Data {
        let whole = try await get(key)
        return Self.slice(whole, range)
    }

    static func slice(_ data: Data, _ range: Range<Int64>) -> Data {
        let lower = Int(clamping: max(0, range.lowerBound))
        let upper = Int(clamping: max(0, range.upperBound))
        let start = min(lower, data.count)
        let end = min(max(start, upper), data.count)
        return data.subdata(in: (data.startIndex + start)..<(data.startIndex + end))
    }
}

extension BackupstoreError {
    static func objectNotFound(_ key: String) -> BackupstoreError {
        BackupstoreError(.notFound, subject: key, detail: "object does not exist", key: key)
    }
}

// MARK: - In memory

/// A working in-memory store for tests and simulations.
public actor InMemoryObjectStore: ObjectStore {
    private var objects: [String: Data]

    public init(objects: [String: Data] = [:]) {
        self.objects = objects
    }

    public func get(_ key: String) async throws -> Data {
        guard let data = objects[key] else { throw BackupstoreError.objectNotFound(key) }
        return data
    }

    public func get(_ key: String, range: Range<Int64>) async throws -> Data {
        guard let data = objects[key] else { throw BackupstoreError.objectNotFound(key) }
        return Self.slice(data, range)
    }

    public func put(_ key: String, data: Data) async throws {
        objects[key] = data
    }

    public func list(prefix: String) async throws -> [String] {
        objects.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    public func head(_ key: String) async throws -> ObjectInfo? {
        objects[key].map { ObjectInfo(size: Int64($0.count)) }
    }

    public func delete(_ key: String) async throws {
        objects[key] = nil
    }

    /// Every key and object (for assertions in tests).
    public var allObjects: [String: Data] { objects }
}
