import Foundation

/// One block of a backup: where it goes in the volume and which stored block holds it.
public struct BlockMapping: Sendable, Hashable, Codable {
    public var offset: Int64
    /// The first 64 hex digits of SHA-512 of the uncompressed block; also the block's object name.
    public var blockChecksum: String

    public init(offset: Int64, blockChecksum: String) {
        self.offset = offset
        self.blockChecksum = blockChecksum
    }

    enum CodingKeys: String, CodingKey {
        case offset = "Offset"
        case blockChecksum = "BlockChecksum"
    }
}

/// The `backup_<name>.cfg` of one backup (Longhorn backupstore `type Backup`).
///
/// Every backup lists *all* of its blocks, so each one restores on its own; `Size` is the number of
/// listed blocks times the block size, not the volume size.
public struct BackupConfig: Sendable, Hashable, Codable {
    /// The Longhorn default block size, used when `Parameters["backup-block-size"]` is absent or empty.
    public static let defaultBlockSize: Int64 = 2 * 1024 * 1024
    /// The parameter key that records a non-default block size (Longhorn v1.10+).
    public static let blockSizeParameter = "backup-block-size"

    public var name: String
    public var volumeName: String
    public var snapshotName: String
    public var snapshotCreatedAt: String
    /// Empty while Longhorn is still writing the backup.
    public var createdTime: String
    public var size: Int64
    public var labels: [String: String]?
    public var parameters: [String: String]?
    public var isIncremental: Bool
    /// Plain string in this file (not double-encoded); empty reads as gzip.
    public var compressionMethod: CompressionMethod
    public var newlyUploadedDataSize: Int64
    public var reUploadedDataSize: Int64
    /// Sorted by offset.
    public var blocks: [BlockMapping]
    /// `SingleFile.FilePath`, used by Longhorn only for backing-image style single-file backups.
    public var singleFilePath: String
    /// The `BlockSize` key that cfgs written before Aug 2025 may carry (read only; Longhorn stopped writing it).
    public var legacyBlockSize: Int64?
    /// How `ProcessingBlocks` appears: Longhorn's first (full) backup of a volume saves its in-memory
    /// bookkeeping, which marshals as `{}`; merged (incremental) backups and in-progress cfgs have `null`.
    /// Kept so a parsed cfg writes back byte for byte.
    var processingBlocksIsObject: Bool

    public init(
        name: String,
        volumeName: String,
        snapshotName: String = "",
        snapshotCreatedAt: String = "",
        createdTime: String = "",
        size: Int64 = 0,
        labels: [String: String]? = nil,
        parameters: [String: String]? = nil,
        isIncremental: Bool = false,
        compressionMethod: CompressionMethod,
        newlyUploadedDataSize: Int64 = 0,
        reUploadedDataSize: Int64 = 0,
        blocks: [BlockMapping] = [],
        singleFilePath: String = "",
        legacyBlockSize: Int64? = nil
    ) {
        processingBlocksIsObject = false
        self.name = name
        self.volumeName = volumeName
        self.snapshotName = snapshotName
        self.snapshotCreatedAt = snapshotCreatedAt
        self.createdTime = createdTime
        self.size = size
        self.labels = labels
        self.parameters = parameters
        self.isIncremental = isIncremental
        self.compressionMethod = compressionMethod
        self.newlyUploadedDataSize = newlyUploadedDataSize
        self.reUploadedDataSize = reUploadedDataSize
        self.blocks = blocks
        self.singleFilePath = singleFilePath
        self.legacyBlockSize = legacyBlockSize
    }

    /// Longhorn writes a cfg with an empty `CreatedTime` before it uploads blocks and fills it in at the end.
    public var isInProgress: Bool { createdTime.isEmpty }

    /// The block size of this backup from `Parameters["backup-block-size"]` (a Kubernetes quantity such as
    /// "2097152" or "16Mi"); absent, empty or zero means 2 MiB.
    ///
    /// - Throws: `.invalidConfig` when the value is not a positive size.
    public func blockSize() throws(BackupstoreError) -> Int64 {
        guard let text = parameters?[Self.blockSizeParameter], !text.isEmpty else {
            return legacyBlockSize.flatMap { $0 > 0 ? $0 : nil } ?? Self.defaultBlockSize
        }
        guard let value = Self.parseQuantity(text), value >= 0 else {
            throw BackupstoreError(
                .invalidConfig, subject: "backup \(name) of volume \(volumeName)",
                detail: "Parameters[\"\(Self.blockSizeParameter)\"] is \"\(text)\", not a size",
                hint: "Longhorn writes a byte count such as \"2097152\" or \"16777216\"")
        }
        return value == 0 ? Self.defaultBlockSize : value
    }

    /// Parses the integer forms of a Kubernetes quantity: "123", "2Mi", "16Mi", "1Gi", "4k", "1M".
    static func parseQuantity(_ text: String) -> Int64? {
        let suffixes: [(String, Int64)] = [
            ("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40),
            ("k", 1_000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000),
        ]
        for (suffix, multiplier) in suffixes where text.hasSuffix(suffix) {
            guard let number = Int64(text.dropLast(suffix.count)) else { return nil }
            let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : product
        }
        return Int64(text)
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case volumeName = "VolumeName"
        case snapshotName = "SnapshotName"
        case snapshotCreatedAt = "SnapshotCreatedAt"
        case createdTime = "CreatedTime"
        case size = "Size"
        case labels = "Labels"
        case parameters = "Parameters"
        case isIncremental = "IsIncremental"
        case compressionMethod = "CompressionMethod"
        case newlyUploadedDataSize = "NewlyUploadedDataSize"
        case reUploadedDataSize = "ReUploadedDataSize"
        case processingBlocks = "ProcessingBlocks"
        case blocks = "Blocks"
        case singleFile = "SingleFile"
        case legacyBlockSize = "BlockSize"
    }

    struct SingleFile: Codable {
        var filePath: String
        enum CodingKeys: String, CodingKey { case filePath = "FilePath" }
        init(filePath: String) { self.filePath = filePath }
        init(from decoder: any Decoder) throws {
            filePath = try decoder.container(keyedBy: CodingKeys.self).goString(.filePath)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.goString(.name)
        volumeName = try c.goString(.volumeName)
        snapshotName = try c.goString(.snapshotName)
        snapshotCreatedAt = try c.goString(.snapshotCreatedAt)
        createdTime = try c.goString(.createdTime)
        size = try c.goInt64String(.size)
        labels = try c.goStringMap(.labels)
        parameters = try c.goStringMap(.parameters)
        isIncremental = try c.decodeIfPresent(Bool.self, forKey: .isIncremental) ?? false
        // Plain in backup cfgs, but accept the double-encoded form too in case a writer got it wrong.
        compressionMethod = try CompressionMethod(parsing: c.goDoubleEncodedString(.compressionMethod))
        newlyUploadedDataSize = try c.goInt64String(.newlyUploadedDataSize)
        reUploadedDataSize = try c.goInt64String(.reUploadedDataSize)
        blocks = try c.decodeIfPresent([BlockMapping].self, forKey: .blocks) ?? []
        singleFilePath = try c.decodeIfPresent(SingleFile.self, forKey: .singleFile)?.filePath ?? ""
        legacyBlockSize = c.contains(.legacyBlockSize) ? try c.goInt64String(.legacyBlockSize) : nil
        processingBlocksIsObject =
            c.contains(.processingBlocks) && (try? c.decodeNil(forKey: .processingBlocks)) == false
            && (try? c.decode([String: String].self, forKey: .processingBlocks)) != nil
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(volumeName, forKey: .volumeName)
        try c.encode(snapshotName, forKey: .snapshotName)
        try c.encode(snapshotCreatedAt, forKey: .snapshotCreatedAt)
        try c.encode(createdTime, forKey: .createdTime)
        try c.encode(String(size), forKey: .size)
        try c.encode(labels, forKey: .labels)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(isIncremental, forKey: .isIncremental)
        try c.encode(compressionMethod.rawValue, forKey: .compressionMethod)
        try c.encode(String(newlyUploadedDataSize), forKey: .newlyUploadedDataSize)
        try c.encode(String(reUploadedDataSize), forKey: .reUploadedDataSize)
        if processingBlocksIsObject {
            try c.encode([String: String](), forKey: .processingBlocks)
        } else {
            try c.encodeNil(forKey: .processingBlocks)
        }
        if !blocks.isEmpty { try c.encode(blocks, forKey: .blocks) }
        try c.encode(SingleFile(filePath: singleFilePath), forKey: .singleFile)
    }

    // MARK: - Longhorn's bytes

    /// The exact bytes Longhorn's `json.Marshal` writes for this backup (`Blocks` omitted when empty,
    /// `ProcessingBlocks` as described above, no legacy `BlockSize`).
    public func backupstoreJSON() -> Data {
        var w = GoJSONWriter()
        w.string("Name", name)
        w.string("VolumeName", volumeName)
        w.string("SnapshotName", snapshotName)
        w.string("SnapshotCreatedAt", snapshotCreatedAt)
        w.string("CreatedTime", createdTime)
        w.int64String("Size", size)
        w.stringMap("Labels", labels)
        w.stringMap("Parameters", parameters)
        w.bool("IsIncremental", isIncremental)
        w.string("CompressionMethod", compressionMethod.rawValue)
        w.int64String("NewlyUploadedDataSize", newlyUploadedDataSize)
        w.int64String("ReUploadedDataSize", reUploadedDataSize)
        if processingBlocksIsObject {
            w.raw("ProcessingBlocks", "{}")
        } else {
            w.null("ProcessingBlocks")
        }
        if !blocks.isEmpty {
            let list = blocks.map {
                "{\"Offset\":\($0.offset),\"BlockChecksum\":\(GoJSONWriter.quote($0.blockChecksum))}"
            }
            w.raw("Blocks", "[" + list.joined(separator: ",") + "]")
        }
        w.raw("SingleFile", "{\"FilePath\":\(GoJSONWriter.quote(singleFilePath))}")
        return w.finish()
    }

    /// Parses a `backup_<name>.cfg`.
    ///
    /// - Parameter key: the store key, named in the error.
    /// - Throws: `.invalidConfig` (or `.unsupported` for an unknown compression method) naming `key`.
    public static func parse(_ data: Data, key: String) throws(BackupstoreError) -> BackupConfig {
        try decodeConfig(BackupConfig.self, from: data, key: key)
    }
}
