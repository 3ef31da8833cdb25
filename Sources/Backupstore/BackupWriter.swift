import Foundation

/// Writes a backup of a volume image into a backup store in Longhorn's format, so Longhorn (and
/// `BackupReader`) can restore it.
///
/// It follows Longhorn's `CreateDeltaBlockBackup`: `volume.cfg` is created only if absent and its
/// compression method is then reused; an in-progress backup cfg (empty `CreatedTime`) is written first;
/// all-zero blocks are skipped; blocks already in the store are not uploaded again; the final backup cfg
/// lists every block and is written after all blocks; `volume.cfg` is updated last.
///
/// Unlike Longhorn it reads the whole image (it has no snapshot diff), and it takes no backupstore lock:
/// do not point it at a volume Longhorn is backing up at the same time.
public struct BackupWriter: Sendable {
    public let store: any ObjectStore
    public let layout: BackupstoreLayout

    public init(store: any ObjectStore, layout: BackupstoreLayout = BackupstoreLayout()) {
        self.store = store
        self.layout = layout
    }

    /// What to write besides the blocks.
    public struct Options: Sendable {
        /// Block size in bytes: a power of two from 4 KiB to 16 MiB (Longhorn uses 2 MiB or 16 MiB).
        public var blockSize: Int
        /// Used only when the volume has no `volume.cfg` yet; afterwards the stored method wins.
        public var compression: CompressionMethod
        public var snapshotName: String?
        /// The snapshot time recorded as `SnapshotCreatedAt` and `LastBackupAt`; defaults to `now`.
        public var snapshotCreatedAt: Date?
        public var labels: [String: String]?
        public var storageClassName: String
        public var dataEngine: String

        public init(
            blockSize: Int = Int(BackupConfig.defaultBlockSize),
            compression: CompressionMethod = .lz4,
            snapshotName: String? = nil,
            snapshotCreatedAt: Date? = nil,
            labels: [String: String]? = nil,
            storageClassName: String = "",
            dataEngine: String = "v1"
        ) {
            self.blockSize = blockSize
            self.compression = compression
            self.snapshotName = snapshotName
            self.snapshotCreatedAt = snapshotCreatedAt
            self.labels = labels
            self.storageClassName = storageClassName
            self.dataEngine = dataEngine
        }
    }

    /// What a backup wrote.
    public struct Result: Sendable, Hashable {
        public var config: BackupConfig
        public var configKey: String
        /// Blocks listed in the backup (non-zero blocks).
        public var blocksListed: Int
        /// Blocks uploaded by this backup (not already in the store).
        public var blocksUploaded: Int
        /// Compressed bytes uploaded.
        public var bytesUploaded: Int64
        /// The compression method used (the volume's).
        public var compression: CompressionMethod
    }

    /// Backs up the image file at `imagePath` as backup `backupName` of `volumeName`.
    ///
    /// The image is read one block at a time, so memory stays at about two blocks whatever its size.
    ///
    /// - Parameters:
    ///   - now: the time recorded as `CreatedTime` (injected so tests and simulations control the clock).
    /// - Throws: `.invalidArgument` for a bad name, block size, or an image whose size is not a multiple of
    ///   the block size; `.notFound`/`.io` for the image; store errors as the store throws them.
    public func backup(
        imageAt imagePath: URL,
        volumeName: String,
        backupName: String,
        options: Options = Options(),
        now: Date
    ) async throws -> Result {
        try BackupstoreLayout.validateName(volumeName, kind: "volume")
        try BackupstoreLayout.validateName(backupName, kind: "backup")
        let blockSize = options.blockSize
        guard blockSize >= 4096, blockSize <= 16 * 1024 * 1024, blockSize & (blockSize - 1) == 0 else {
            throw BackupstoreError(
                .invalidArgument, subject: "volume \(volumeName)",
                detail: "block size \(blockSize) is not a power of two between 4 KiB and 16 MiB",
                hint: "use 2097152 (Longhorn's default) or 16777216")
        }

        let image = try ImageFile(url: imagePath)
        defer { image.close() }
        let imageSize = image.size
        guard imageSize % Int64(blockSize) == 0 else {
            throw BackupstoreError(
                .invalidArgument, subject: imagePath.path,
                detail: "image size \(imageSize) is not a multiple of the block size \(blockSize)",
                hint: "Longhorn volume sizes are whole multiples of the backup block size; pad the image")
        }

        let createdTime = Self.timestamp(now)
        let snapshotTime = Self.timestamp(options.snapshotCreatedAt ?? now)

        // volume.cfg: create only if absent; its compression method is fixed from then on.
        let volumeKey = layout.volumeConfigKey(volumeName)
        if try await !store.exists(volumeKey) {
            let fresh = VolumeConfig(
                name: volumeName, size: imageSize, labels: options.labels, createdTime: createdTime,
                compressionMethod: options.compression, storageClassName: options.storageClassName,
                dataEngine: options.dataEngine)
            try await store.put(volumeKey, data: fresh.backupstoreJSON())
        }
        let volume = try VolumeConfig.parse(try await store.get(volumeKey), key: volumeKey)
        let method = volume.compressionMethod
        let isIncremental = try await hasUsableLastBackup(volume)

        // Mark the backup as in progress, as Longhorn does, so readers never take a half-written one.
        let configKey = layout.backupConfigKey(volume: volumeName, backup: backupName)
        let marker = BackupConfig(name: backupName, volumeName: volumeName, compressionMethod: method)
        try await store.put(configKey, data: marker.backupstoreJSON())

        var blocks: [BlockMapping] = []
        var seen: Set<String> = []
        var uploaded = 0
        var bytesUploaded: Int64 = 0
        var offset: Int64 = 0
        while offset < imageSize {
            try Task.checkCancellation()
            let block = try image.read(at: offset, count: blockSize)
            if !Self.isAllZero(block) {
                let checksum = BackupstoreLayout.checksum(of: block)
                let key = layout.blockKey(volume: volumeName, checksum: checksum)
                // Dedupe within this run first (same data at two offsets), then against the store.
                if !seen.contains(checksum) {
                    seen.insert(checksum)
                    if try await !store.exists(key) {
                        let compressed = try method.compress(block)
                        try await store.put(key, data: Data(compressed))
                        uploaded += 1
                        bytesUploaded += Int64(compressed.count)
                    }
                }
                blocks.append(BlockMapping(offset: offset, blockChecksum: checksum))
            }
            offset += Int64(blockSize)
        }

        // Longhorn (v1.10+) records the block size as a plain byte count, for 2 MiB too.
        let parameters = [BackupConfig.blockSizeParameter: String(blockSize)]
        var config = BackupConfig(
            name: backupName, volumeName: volumeName,
            snapshotName: options.snapshotName ?? backupName,
            snapshotCreatedAt: snapshotTime, createdTime: createdTime,
            size: Int64(blocks.count) * Int64(blockSize), labels: options.labels, parameters: parameters,
            isIncremental: isIncremental, compressionMethod: method,
            newlyUploadedDataSize: bytesUploaded, reUploadedDataSize: 0, blocks: blocks)
        // Longhorn saves the first backup's bookkeeping struct ({}); merged incremental cfgs have null.
        config.processingBlocksIsObject = !isIncremental
        try await store.put(configKey, data: config.backupstoreJSON())

        // Reload volume.cfg (as Longhorn does) and record this backup as the latest.
        var updated = try VolumeConfig.parse(try await store.get(volumeKey), key: volumeKey)
        updated.lastBackupName = backupName
        updated.lastBackupAt = snapshotTime
        updated.blockCount += Int64(uploaded)
        updated.size = imageSize
        if let labels = options.labels { updated.labels = labels }
        try await store.put(volumeKey, data: updated.backupstoreJSON())

        return Result(
            config: config, configKey: configKey, blocksListed: blocks.count, blocksUploaded: uploaded,
            bytesUploaded: bytesUploaded, compression: method)
    }

    /// Longhorn marks a backup incremental when the volume's last backup exists and is complete.
    private func hasUsableLastBackup(_ volume: VolumeConfig) async throws -> Bool {
        guard !volume.lastBackupName.isEmpty else { return false }
        let key = layout.backupConfigKey(volume: volume.name, backup: volume.lastBackupName)
        guard try await store.exists(key) else { return false }
        let last = try BackupConfig.parse(try await store.get(key), key: key)
        return !last.isInProgress
    }

    /// RFC 3339 in UTC with whole seconds, as Go's `time.Now().UTC().Format(time.RFC3339)`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    static func isAllZero(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var index = 0
            let count = raw.count
            while index + 8 <= count {
                if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
                index += 8
            }
            while index < count {
                if raw[index] != 0 { return false }
                index += 1
            }
            return true
        }
    }
}

/// A read-only image file read block by block.
///
/// Used by one task at a time (the writer's loop), so the handle needs no locking.
final class ImageFile {
    private let handle: FileHandle
    let url: URL
    let size: Int64

    init(url: URL) throws(BackupstoreError) {
        self.url = url
        do {
            handle = try FileHandle(forReadingFrom: url)
            size = Int64(try handle.seekToEnd())
        } catch {
            let missing = !FileManager.default.fileExists(atPath: url.path)
            throw BackupstoreError(
                missing ? .notFound : .io, subject: url.path,
                detail: missing ? "image file does not exist" : "cannot open the image file",
                hint: missing ? "check the path of the volume image" : "check the file's permissions",
                underlying: error)
        }
    }

    /// Exactly `count` bytes at `offset` (the image size is a multiple of the block size).
    func read(at offset: Int64, count: Int) throws(BackupstoreError) -> [UInt8] {
        do {
            try handle.seek(toOffset: UInt64(offset))
            var bytes: [UInt8] = []
            bytes.reserveCapacity(count)
            while bytes.count < count {
                guard let chunk = try handle.read(upToCount: count - bytes.count), !chunk.isEmpty else { break }
                bytes.append(contentsOf: chunk)
            }
            guard bytes.count == count else {
                throw BackupstoreError(
                    .io, subject: url.path,
                    detail: "image ended at \(offset + Int64(bytes.count)) while reading \(count) bytes at \(offset)",
                    hint: "the image changed size during the backup; back up a stable snapshot")
            }
            return bytes
        } catch let error as BackupstoreError {
            throw error
        } catch {
            throw BackupstoreError(
                .io, subject: url.path, detail: "cannot read \(count) bytes at offset \(offset)", underlying: error)
        }
    }

    func close() {
        try? handle.close()
    }
}
