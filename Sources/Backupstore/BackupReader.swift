import Foundation
import Synchronization

/// Reads Longhorn backups straight from a backup store and verifies every block.
///
/// A restore fetches each listed block, decompresses it, checks its SHA-512 against its name and writes it
/// at its offset in a sparse output file. Any missing, truncated, undecodable or mismatching block fails
/// the whole restore with an error that names the volume, backup, block offset and key: a DR drill must
/// never report success for a backup that cannot be restored.
public struct BackupReader: Sendable {
    public let store: any ObjectStore
    public let layout: BackupstoreLayout

    public init(store: any ObjectStore, layout: BackupstoreLayout = BackupstoreLayout()) {
        self.store = store
        self.layout = layout
    }

    /// How far a restore or verification is.
    public struct Progress: Sendable, Hashable {
        public var blocksDone: Int
        public var blocksTotal: Int
        /// Uncompressed bytes verified so far.
        public var bytesDone: Int64
    }

    /// What a restore or verification checked.
    public struct Result: Sendable, Hashable {
        public var volume: String
        public var backup: String
        public var blockSize: Int
        /// Blocks fetched, decompressed and matched against their SHA-512 names.
        public var blocksVerified: Int
        /// Uncompressed bytes verified (blocks × block size).
        public var bytesVerified: Int64
        /// Bytes fetched from the store.
        public var compressedBytes: Int64
        /// The size of the output file, or nil when only verifying.
        public var outputSize: Int64?
        /// Blocks stored with the other of lz4/gzip than the cfg says; Longhorn restores these too (it retries
        /// with the other method), but a non-zero count is worth reporting.
        public var blocksInOtherMethod: Int
        /// The block checksums the backup lists (each once), verified or not.
        public var checksums: Set<String> = []
        /// Blocks the caller chose not to fetch (``verify(volume:backup:parallelism:only:progress:)``).
        public var blocksSkipped = 0
    }

    // MARK: - Metadata

    /// The names of the backups of `volume` that have a cfg (complete or in progress), sorted.
    public func listBackups(volume: String) async throws -> [String] {
        try BackupstoreLayout.validateName(volume, kind: "volume")
        let directory = layout.backupsDirectory(volume)
        let keys = try await store.list(prefix: directory)
        return keys.compactMap { key in
            let rest = key.dropFirst(directory.count)
            guard !rest.contains("/") else { return nil }
            return BackupstoreLayout.backupName(fromConfigKey: key)
        }.sorted()
    }

    /// The volume's `volume.cfg`.
    ///
    /// - Throws: `.notFound` with a hint when the store has no such backup volume; `.invalidConfig`.
    public func volumeConfig(_ volume: String) async throws -> VolumeConfig {
        try BackupstoreLayout.validateName(volume, kind: "volume")
        let key = layout.volumeConfigKey(volume)
        let data = try await fetchConfig(
            key, maxBytes: Self.volumeConfigLimit, what: "backup volume \(volume)",
            hint: "check the backup target URL (prefix \"\(layout.prefix)\") and the volume name; "
                + "`kubectl -n longhorn-system get backupvolumes.longhorn.io` lists the volumes Longhorn knows")
        return try VolumeConfig.parse(data, key: key)
    }

    /// One backup's cfg.
    ///
    /// - Throws: `.notFound` with a hint when the backup does not exist; `.invalidConfig`.
    /// - Parameter volumeSize: the volume's size when known (from volume.cfg): the cfg may then
    ///   hold no more than one entry per possible block.
    public func backupConfig(volume: String, backup: String, volumeSize: Int64? = nil) async throws -> BackupConfig {
        try BackupstoreLayout.validateName(volume, kind: "volume")
        try BackupstoreLayout.validateName(backup, kind: "backup")
        let key = layout.backupConfigKey(volume: volume, backup: backup)
        let data = try await fetchConfig(
            key, maxBytes: Self.backupConfigLimit(volumeSize: volumeSize), what: "backup \(backup) of volume \(volume)",
            hint: "list the volume's backups (`kubectl -n longhorn-system get backups.longhorn.io "
                + "-l backup-volume=\(volume)`); the backup may have been deleted by retention")
        return try BackupConfig.parse(data, key: key)
    }

    /// A volume.cfg is a few hundred bytes of fields and labels.
    public static let volumeConfigLimit = 1 << 20
    /// A backup cfg lists one entry (about 100 bytes) per block written. Without a known size:
    /// 256 MiB, enough for a fully written 4 TiB volume; with one, 256 bytes per 2 MiB block.
    public static func backupConfigLimit(volumeSize: Int64?) -> Int {
        let unknown = 256 << 20
        guard let volumeSize, volumeSize > 0 else { return unknown }
        let blocks = volumeSize / Int64(2 << 20) + 1
        return Int(min(Int64(unknown), Int64(1 << 20) + blocks * 256))
    }

    /// Reads a cfg, refusing one larger than `maxBytes`: a hostile store must not make the reader
    /// hold gigabytes (each parallel restore reads its own).
    private func fetchConfig(_ key: String, maxBytes: Int, what: String, hint: String) async throws -> Data {
        do {
            return try await store.get(key, maxBytes: maxBytes)
        } catch let error as BackupstoreError where error.code == .notFound {
            throw BackupstoreError(
                .notFound, subject: what, detail: "\(key) does not exist in the backup store", hint: hint, key: key,
                underlying: error)
        }
    }

    // MARK: - Restore and verify

    /// Restores a backup into a sparse file at `output`, verifying every block.
    ///
    /// The file is sized to the volume size from `volume.cfg` (what Longhorn truncates its restore target
    /// to), or further if a block lies beyond it; unlisted ranges stay holes (zeros). Memory is bounded by
    /// `parallelism` blocks in flight, whatever the volume size. An existing file at `output` is replaced;
    /// if the restore fails, the partial file is removed.
    ///
    /// - Parameters:
    ///   - parallelism: how many blocks are fetched and verified at once (at least 1).
    ///   - durable: flush the file to disk before returning; an image that is read once and
    ///     removed (a store check) does not need to wait for the disk.
    ///   - progress: called after each block is written, from the calling task.
    /// - Throws: `.backupInProgress`, `.invalidConfig`, `.blockMissing`, `.blockTruncated`, `.blockCorrupt`,
    ///   `.blockChecksumMismatch` (with `key` and `blockOffset` set), `.io` for the output file.
    public func restore(
        volume: String,
        backup: String,
        to output: URL,
        parallelism: Int = 4,
        durable: Bool = false,
        progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws -> Result {
        try await run(volume: volume, backup: backup, output: output, parallelism: parallelism, durable: durable, progress: progress)
    }

    /// Fetches, decompresses and verifies every block of a backup without writing anything.
    ///
    /// - Throws: as `restore`, without the output file errors.
    public func verify(
        volume: String,
        backup: String,
        parallelism: Int = 4,
        progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws -> Result {
        try await run(volume: volume, backup: backup, output: nil, parallelism: parallelism, durable: false, progress: progress)
    }

    /// Verifies the blocks for which `only` says true (by checksum); the others are counted as
    /// skipped. For a caller that knows which blocks it verified before (blocks are
    /// content-addressed and shared between backups). The cfg and every mapping are still checked.
    public func verify(
        volume: String,
        backup: String,
        parallelism: Int = 4,
        only: @escaping @Sendable (String) -> Bool,
        progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws -> Result {
        try await run(volume: volume, backup: backup, output: nil, parallelism: parallelism, durable: false, only: only, progress: progress)
    }

    private func run(
        volume: String,
        backup: String,
        output: URL?,
        parallelism: Int,
        durable: Bool,
        only: (@Sendable (String) -> Bool)? = nil,
        progress: (@Sendable (Progress) -> Void)?
    ) async throws -> Result {
        let volumeConfig = try await volumeConfig(volume)
        let config = try await backupConfig(volume: volume, backup: backup, volumeSize: volumeConfig.size)
        let context = BlockContext(volume: volume, backup: backup, layout: layout)
        if config.isInProgress {
            throw BackupstoreError(
                .backupInProgress, subject: context.subject,
                detail: "the backup cfg has no CreatedTime: Longhorn has not finished this backup",
                hint: "wait for the Backup CR to reach state Completed, or pick an earlier backup",
                key: layout.backupConfigKey(volume: volume, backup: backup))
        }
        let blockSize = try validatedBlockSize(config, context: context)
        let listed = try validatedBlocks(config, blockSize: blockSize, context: context)
        // With `only`, a checksum listed at two offsets is one object: verified once.
        var chosen = Set<String>()
        let blocks = only.map { only in listed.filter { only($0.blockChecksum) && chosen.insert($0.blockChecksum).inserted } } ?? listed
        let method = config.compressionMethod

        var outputSize: Int64?
        var sink: OutputFile?
        if let output {
            let lastEnd = blocks.last.map { $0.offset + Int64(blockSize) } ?? 0
            // A damaged (negative) volume size must not reach truncate(2).
            let size = max(volumeConfig.size, lastEnd, 0)
            sink = try OutputFile(url: output, size: size)
            outputSize = size
        }
        defer { sink?.close() }
        do {
            var result = try await copyBlocks(
                blocks, volume: volume, backup: backup, method: method, blockSize: blockSize, context: context,
                sink: sink, outputSize: outputSize, parallelism: parallelism, durable: durable, progress: progress)
            result.checksums = Set(listed.map(\.blockChecksum))
            result.blocksSkipped = only == nil ? 0 : result.checksums.count - Set(blocks.map(\.blockChecksum)).count
            return result
        } catch {
            // Never leave a half-restored image behind that could pass for a good one.
            if let sink, let output {
                sink.close()
                try? FileManager.default.removeItem(at: output)
            }
            throw error
        }
    }

    private func copyBlocks(
        _ blocks: [BlockMapping],
        volume: String,
        backup: String,
        method: CompressionMethod,
        blockSize: Int,
        context: BlockContext,
        sink: OutputFile?,
        outputSize: Int64?,
        parallelism: Int,
        durable: Bool,
        progress: (@Sendable (Progress) -> Void)?
    ) async throws -> Result {
        var done = Progress(blocksDone: 0, blocksTotal: blocks.count, bytesDone: 0)
        var compressedBytes: Int64 = 0
        var otherMethod = 0
        let store = self.store
        let width = max(1, parallelism)
        let buffers = BlockBuffers(blockSize: blockSize, keep: width)
        try await withThrowingTaskGroup(of: VerifiedBlock.self) { group in
            var next = 0
            func startNext() {
                guard next < blocks.count else { return }
                let mapping = blocks[next]
                next += 1
                group.addTask {
                    try await Self.fetchAndVerify(
                        mapping, store: store, method: method, blockSize: blockSize, context: context,
                        buffers: buffers)
                }
            }
            for _ in 0..<width { startNext() }
            while var block = try await group.next() {
                try sink?.write(block.data, at: block.offset, context: context)
                compressedBytes += Int64(block.compressedSize)
                if block.decodedWithOtherMethod { otherMethod += 1 }
                done.blocksDone += 1
                done.bytesDone += Int64(block.data.count)
                progress?(done)
                // Written: its array can take the next block (before that block's task starts).
                buffers.recycle(&block.data)
                startNext()
            }
        }
        if durable { try sink?.finish() }

        return Result(
            volume: volume, backup: backup, blockSize: blockSize, blocksVerified: done.blocksDone,
            bytesVerified: done.bytesDone, compressedBytes: compressedBytes, outputSize: outputSize,
            blocksInOtherMethod: otherMethod)
    }

    // MARK: - Validation

    /// Backups larger than this block size are refused: it bounds memory per block in flight.
    static let maximumBlockSize: Int64 = 64 * 1024 * 1024

    private func validatedBlockSize(_ config: BackupConfig, context: BlockContext) throws -> Int {
        let size = try config.blockSize()
        guard size > 0, size <= Self.maximumBlockSize else {
            throw BackupstoreError(
                .invalidConfig, subject: context.subject,
                detail: "block size \(size) is outside 1...\(Self.maximumBlockSize)",
                hint: "Longhorn uses 2 MiB or 16 MiB; the cfg's Parameters[\"backup-block-size\"] looks damaged")
        }
        return Int(size)
    }

    /// Checks every mapping before any fetch: names must be checksums (they become keys) and offsets
    /// must be distinct, non-negative multiples of the block size.
    private func validatedBlocks(
        _ config: BackupConfig, blockSize: Int, context: BlockContext
    ) throws -> [BlockMapping] {
        let key = layout.backupConfigKey(volume: context.volume, backup: context.backup)
        var offsets: Set<Int64> = []
        for mapping in config.blocks {
            guard BackupstoreLayout.isValidChecksum(mapping.blockChecksum) else {
                throw BackupstoreError(
                    .invalidConfig, subject: context.subject(offset: mapping.offset),
                    detail: "block checksum \"\(mapping.blockChecksum)\" is not 64 lowercase hex digits",
                    hint: "the backup cfg is damaged; this backup cannot be restored", key: key,
                    blockOffset: mapping.offset)
            }
            guard mapping.offset >= 0, mapping.offset % Int64(blockSize) == 0,
                mapping.offset <= Int64.max - Int64(blockSize)
            else {
                throw BackupstoreError(
                    .invalidConfig, subject: context.subject(offset: mapping.offset),
                    detail: "offset \(mapping.offset) is not a non-negative multiple of the block size \(blockSize)",
                    hint: "the backup cfg is damaged or its backup-block-size parameter is wrong", key: key,
                    blockOffset: mapping.offset)
            }
            guard offsets.insert(mapping.offset).inserted else {
                throw BackupstoreError(
                    .invalidConfig, subject: context.subject(offset: mapping.offset),
                    detail: "offset \(mapping.offset) is listed twice", hint: "the backup cfg is damaged",
                    key: key, blockOffset: mapping.offset)
            }
        }
        return config.blocks.sorted { $0.offset < $1.offset }
    }

    // MARK: - One block

    struct VerifiedBlock: Sendable {
        var offset: Int64
        var data: [UInt8]
        var compressedSize: Int
        var decodedWithOtherMethod: Bool
    }

    /// Names the volume and backup in every block error.
    struct BlockContext: Sendable {
        var volume: String
        var backup: String
        var layout: BackupstoreLayout

        var subject: String { "volume \(volume) backup \(backup)" }

        func subject(offset: Int64) -> String {
            "volume \(volume) backup \(backup) block at offset \(offset)"
        }
    }

    /// Block-sized arrays that decoded blocks are written into and handed back to once the block is written.
    ///
    /// A fresh 2 MiB array per block costs 512 page faults (the allocator returns freed blocks of that size to
    /// the system); at most `keep` arrays (the parallelism) are kept, so memory stays bounded as before.
    final class BlockBuffers: Sendable {
        let blockSize: Int
        let keep: Int
        private let spare = Mutex<[[UInt8]]>([])

        init(blockSize: Int, keep: Int) {
            self.blockSize = blockSize
            self.keep = keep
        }

        /// An array of `blockSize` bytes (contents unspecified) that no one else holds.
        func take() -> [UInt8] {
            spare.withLock { $0.popLast() } ?? [UInt8](repeating: 0, count: blockSize)
        }

        /// Takes `data` (leaving it empty) to hand out again, if it is block-sized and room is left.
        func recycle(_ data: inout [UInt8]) {
            var array: [UInt8] = []
            swap(&array, &data)
            guard array.count == blockSize else { return }
            spare.withLock { spare in
                if spare.count < keep { spare.append(array) }
            }
        }
    }

    /// Decompresses one stored block; LZ4 (Longhorn's default) is decoded into an array from `buffers`.
    ///
    /// - Returns: the block's bytes; its count is the decoded size (the caller checks it is `blockSize`).
    static func decode(
        _ stored: Data, method: CompressionMethod, blockSize: Int, buffers: BlockBuffers?
    ) throws(BackupstoreError) -> [UInt8] {
        guard method == .lz4, let buffers, buffers.blockSize == blockSize else {
            return try method.decompress(stored, maxSize: blockSize)
        }
        var block = buffers.take()
        let decoded: Swift.Result<Int, BackupstoreError> = block.withUnsafeMutableBytes { output in
            do throws(BackupstoreError) {
                return .success(try LZ4Frame.decompress(stored, into: output))
            } catch {
                return .failure(error)
            }
        }
        switch decoded {
        case .success(let count):
            if count < blockSize { block.removeLast(blockSize - count) }
            return block
        case .failure(let error):
            buffers.recycle(&block)
            throw error
        }
    }

    static func fetchAndVerify(
        _ mapping: BlockMapping,
        store: any ObjectStore,
        method: CompressionMethod,
        blockSize: Int,
        context: BlockContext,
        buffers: BlockBuffers? = nil
    ) async throws -> VerifiedBlock {
        try Task.checkCancellation()
        let key = context.layout.blockKey(volume: context.volume, checksum: mapping.blockChecksum)
        let subject = context.subject(offset: mapping.offset)
        let repair =
            "this backup cannot be restored as stored; create a new full backup of the volume "
            + "(Longhorn backup mode \"full\" re-uploads every block) and find out what changed the object"

        let stored: Data
        do {
            // A stored block is at most its block size plus the codec's worst-case growth (LZ4:
            // n/255 + 16; gzip less); anything bigger is not a block, and with 64 fetches in
            // flight an unbounded read could hold gigabytes.
            stored = try await store.get(key, maxBytes: blockSize + blockSize / 128 + (64 << 10))
        } catch let error as BackupstoreError where error.code == .notFound {
            throw BackupstoreError(
                .blockMissing, subject: subject, detail: "block object \(key) is missing from the store",
                hint: repair + " (check bucket lifecycle rules and who deletes objects)", key: key,
                blockOffset: mapping.offset, underlying: error)
        } catch let error as BackupstoreError {
            // A store failure other than "not found": keep its code and reason, add which block it was.
            throw error.with(subject: subject, key: key, blockOffset: mapping.offset)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw BackupstoreError(
                .io, subject: subject, detail: "cannot read block object \(key)",
                hint: "check connectivity and permissions for the backup store, then retry", key: key,
                blockOffset: mapping.offset, underlying: error)
        }

        var data: [UInt8]
        var decodedWithOtherMethod = false
        do {
            data = try decode(stored, method: method, blockSize: blockSize, buffers: buffers)
        } catch {
            // Longhorn's restore (DecompressAndVerifyWithFallback) retries lz4 <-> gzip when the object carries
            // the other method's magic; accept what Longhorn accepts (the SHA-512 check below still applies).
            if method != .none, error.code != .outputLimitExceeded,
                let other = CompressionMethod.detect(stored), other != method,
                let alternative = try? other.decompress(stored, maxSize: blockSize)
            {
                data = alternative
                decodedWithOtherMethod = true
            } else {
                throw blockDecodeError(
                    error, stored: stored, method: method, key: key, subject: subject, offset: mapping.offset,
                    repair: repair)
            }
        }
        guard data.count == blockSize else {
            throw BackupstoreError(
                .blockTruncated, subject: subject,
                detail: "block object \(key) holds \(data.count) bytes of data, the block size is \(blockSize)",
                hint: repair, key: key, blockOffset: mapping.offset)
        }
        let checksum = BackupstoreLayout.checksum(of: data)
        guard checksum == mapping.blockChecksum else {
            throw BackupstoreError(
                .blockChecksumMismatch, subject: subject,
                detail: "block object \(key) decompresses to data with SHA-512 prefix \(checksum), "
                    + "not the \(mapping.blockChecksum) it is named after",
                hint: repair, key: key, blockOffset: mapping.offset)
        }
        return VerifiedBlock(
            offset: mapping.offset, data: data, compressedSize: stored.count,
            decodedWithOtherMethod: decodedWithOtherMethod)
    }

    private static func blockDecodeError(
        _ error: BackupstoreError, stored: Data, method: CompressionMethod, key: String, subject: String,
        offset: Int64, repair: String
    ) -> BackupstoreError {
        let truncated = error.code == .truncatedInput
        return BackupstoreError(
            truncated ? .blockTruncated : .blockCorrupt, subject: subject,
            detail: truncated
                ? "block object \(key) (\(stored.count) bytes) ends before its \(method) data does: \(error.detail)"
                : "block object \(key) (\(stored.count) bytes) does not decompress as \(method): \(error.detail)",
            hint: repair, key: key, blockOffset: offset, underlying: error)
    }
}

/// The restore target: a file truncated to the volume size up front so unwritten ranges stay holes.
///
/// Only the restoring task writes to it (the task-group children return data; the parent writes).
final class OutputFile {
    private let handle: FileHandle
    let url: URL

    init(url: URL, size: Int64) throws(BackupstoreError) {
        self.url = url
        do {
            let manager = FileManager.default
            if manager.fileExists(atPath: url.path) {
                try manager.removeItem(at: url)
            }
            // The image is the volume's data: private to its owner from the first byte (not
            // created with the default mode and narrowed later), and never through a symlink.
            let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
            handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            try handle.truncate(atOffset: UInt64(size))
        } catch {
            throw BackupstoreError(
                .io, subject: url.path, detail: "cannot create the restore output file of \(size) bytes",
                hint: "check that the directory exists, is writable and has room", underlying: error)
        }
    }

    func write(_ data: [UInt8], at offset: Int64, context: BackupReader.BlockContext) throws(BackupstoreError) {
        do {
            try handle.seek(toOffset: UInt64(offset))
            try handle.write(contentsOf: data)
        } catch {
            throw BackupstoreError(
                .io, subject: url.path,
                detail: "cannot write the block at offset \(offset) of \(context.subject)",
                hint: "check free space on the output file system", blockOffset: offset, underlying: error)
        }
    }

    func finish() throws(BackupstoreError) {
        do {
            try handle.synchronize()
        } catch {
            throw BackupstoreError(.io, subject: url.path, detail: "cannot flush the restore output", underlying: error)
        }
    }

    func close() {
        try? handle.close()
    }
}
