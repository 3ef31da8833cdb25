import Foundation

/// The `volume.cfg` of a backup volume (Longhorn backupstore `type Volume`).
///
/// Fields tagged `,string` in Go are double-encoded in the file (`"CompressionMethod":"\"lz4\""`); this
/// type holds the plain values and does the encoding both ways.
public struct VolumeConfig: Sendable, Hashable, Codable {
    public var name: String
    /// The volume size in bytes (after any expansion, as of the last backup).
    public var size: Int64
    public var labels: [String: String]?
    public var createdTime: String
    public var lastBackupName: String
    /// The snapshot time of the last backup (Longhorn copies `SnapshotCreatedAt`).
    public var lastBackupAt: String
    /// How many distinct blocks this volume has uploaded over all backups.
    public var blockCount: Int64
    public var backingImageName: String
    public var backingImageChecksum: String
    /// Fixed by the first backup; an empty value in the file reads as gzip.
    public var compressionMethod: CompressionMethod
    public var storageClassName: String
    /// "v1" or "v2"; empty in the file reads as "v1", as Longhorn does.
    public var dataEngine: String

    public init(
        name: String,
        size: Int64,
        labels: [String: String]? = nil,
        createdTime: String,
        lastBackupName: String = "",
        lastBackupAt: String = "",
        blockCount: Int64 = 0,
        backingImageName: String = "",
        backingImageChecksum: String = "",
        compressionMethod: CompressionMethod,
        storageClassName: String = "",
        dataEngine: String = "v1"
    ) {
        self.name = name
        self.size = size
        self.labels = labels
        self.createdTime = createdTime
        self.lastBackupName = lastBackupName
        self.lastBackupAt = lastBackupAt
        self.blockCount = blockCount
        self.backingImageName = backingImageName
        self.backingImageChecksum = backingImageChecksum
        self.compressionMethod = compressionMethod
        self.storageClassName = storageClassName
        self.dataEngine = dataEngine
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case size = "Size"
        case labels = "Labels"
        case createdTime = "CreatedTime"
        case lastBackupName = "LastBackupName"
        case lastBackupAt = "LastBackupAt"
        case blockCount = "BlockCount"
        case backingImageName = "BackingImageName"
        case backingImageChecksum = "BackingImageChecksum"
        case compressionMethod = "CompressionMethod"
        case storageClassName = "StorageClassName"
        case dataEngine = "DataEngine"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.goString(.name)
        size = try c.goInt64String(.size)
        labels = try c.goStringMap(.labels)
        createdTime = try c.goString(.createdTime)
        lastBackupName = try c.goString(.lastBackupName)
        lastBackupAt = try c.goString(.lastBackupAt)
        blockCount = try c.goInt64String(.blockCount)
        backingImageName = try c.goDoubleEncodedString(.backingImageName)
        backingImageChecksum = try c.goDoubleEncodedString(.backingImageChecksum)
        compressionMethod = try CompressionMethod(parsing: c.goDoubleEncodedString(.compressionMethod))
        storageClassName = try c.goDoubleEncodedString(.storageClassName)
        let engine = try c.goDoubleEncodedString(.dataEngine)
        dataEngine = engine.isEmpty ? "v1" : engine
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(String(size), forKey: .size)
        try c.encode(labels, forKey: .labels)
        try c.encode(createdTime, forKey: .createdTime)
        try c.encode(lastBackupName, forKey: .lastBackupName)
        try c.encode(lastBackupAt, forKey: .lastBackupAt)
        try c.encode(String(blockCount), forKey: .blockCount)
        try c.encode(GoJSONWriter.quote(backingImageName), forKey: .backingImageName)
        try c.encode(GoJSONWriter.quote(backingImageChecksum), forKey: .backingImageChecksum)
        try c.encode(GoJSONWriter.quote(compressionMethod.rawValue), forKey: .compressionMethod)
        try c.encode(GoJSONWriter.quote(storageClassName), forKey: .storageClassName)
        try c.encode(GoJSONWriter.quote(dataEngine), forKey: .dataEngine)
    }

    // MARK: - Longhorn's bytes

    /// The exact bytes Longhorn's `json.Marshal` writes for this volume.
    public func backupstoreJSON() -> Data {
        var w = GoJSONWriter()
        w.string("Name", name)
        w.int64String("Size", size)
        w.stringMap("Labels", labels)
        w.string("CreatedTime", createdTime)
        w.string("LastBackupName", lastBackupName)
        w.string("LastBackupAt", lastBackupAt)
        w.int64String("BlockCount", blockCount)
        w.doubleEncodedString("BackingImageName", backingImageName)
        w.doubleEncodedString("BackingImageChecksum", backingImageChecksum)
        w.doubleEncodedString("CompressionMethod", compressionMethod.rawValue)
        w.doubleEncodedString("StorageClassName", storageClassName)
        w.doubleEncodedString("DataEngine", dataEngine)
        return w.finish()
    }

    /// Parses a `volume.cfg`.
    ///
    /// - Parameter key: the store key, named in the error.
    /// - Throws: `.invalidConfig` (or `.unsupported` for an unknown compression method) naming `key`.
    public static func parse(_ data: Data, key: String) throws(BackupstoreError) -> VolumeConfig {
        try decodeConfig(VolumeConfig.self, from: data, key: key)
    }
}

/// Decodes a cfg and turns any failure into a `BackupstoreError` that names the key.
func decodeConfig<T: Decodable>(_ type: T.Type, from data: Data, key: String) throws(BackupstoreError) -> T {
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch let error as BackupstoreError {
        throw error.with(subject: key, key: key)
    } catch {
        throw BackupstoreError(
            .invalidConfig, subject: key, detail: "cannot parse \(T.self): \(describeDecodingError(error))",
            hint: "compare the object with `backupstore/volumes/.../volume.cfg` written by Longhorn; "
                + "it may be truncated or written by an incompatible tool",
            key: key, underlying: error)
    }
}

/// A one-line reason for a JSON decoding failure, with the key path that failed.
func describeDecodingError(_ error: any Error) -> String {
    guard let decodingError = error as? DecodingError else { return "\(error)" }
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map(\.stringValue).joined(separator: ".")
        return keys.isEmpty ? context.debugDescription : "\(keys): \(context.debugDescription)"
    }
    switch decodingError {
    case .dataCorrupted(let context): return path(context)
    case .keyNotFound(let key, let context): return "missing key \(key.stringValue) \(path(context))"
    case .typeMismatch(_, let context): return "wrong type at \(path(context))"
    case .valueNotFound(_, let context): return "missing value at \(path(context))"
    @unknown default: return "\(error)"
    }
}
