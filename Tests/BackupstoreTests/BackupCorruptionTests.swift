import Foundation
import Testing

@testable import Backupstore

/// A DR tool that says OK on a broken backup is the worst bug: every damage must fail, naming the block.
@Suite("Reader detects damaged backups")
struct BackupCorruptionTests {
    static let blockSize = 64 * 1024
    static let volume = "pvc-broken"
    static let backup = "backup-x"

    /// A three-block backup (text, hole, text, text) and the checksums of its blocks by offset.
    static func makeBackup(_ method: CompressionMethod) async throws -> (StoreFixture, [Int64: String]) {
        let fixture = try StoreFixture()
        let blocks: [[UInt8]?] = [
            TestData.text(blockSize, seed: 61), nil, TestData.text(blockSize, seed: 62), TestData.text(blockSize, seed: 63),
        ]
        let image = try fixture.image("img", blocks: blocks, blockSize: blockSize)
        let result = try await fixture.writer.backup(
            imageAt: image, volumeName: volume, backupName: backup,
            options: .init(blockSize: blockSize, compression: method), now: StoreFixture.now)
        let checksums = Dictionary(uniqueKeysWithValues: result.config.blocks.map { ($0.offset, $0.blockChecksum) })
        // Sanity: the undamaged backup verifies.
        let clean = try await fixture.reader.verify(volume: volume, backup: backup)
        #expect(clean.blocksVerified == 3)
        return (fixture, checksums)
    }

    static func key(_ fixture: StoreFixture, _ checksum: String?) -> String {
        fixture.layout.blockKey(volume: volume, checksum: checksum ?? "")
    }

    /// Restores and expects `code` for the block at `offset` with `key`, named in the message too.
    static func expectFailure(
        _ fixture: StoreFixture, codes: [BackupstoreError.Code], offset: Int64, key: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let output = fixture.directory.file("out-\(UUID().uuidString)")
        let error = await #expect(throws: BackupstoreError.self, sourceLocation: sourceLocation) {
            try await fixture.reader.restore(volume: volume, backup: backup, to: output, parallelism: 3)
        }
        #expect(
            !FileManager.default.fileExists(atPath: output.path), "a failed restore left its output behind",
            sourceLocation: sourceLocation)
        guard let error else { return }
        #expect(codes.contains(error.code), "got \(error.code): \(error)", sourceLocation: sourceLocation)
        #expect(error.blockOffset == offset, sourceLocation: sourceLocation)
        #expect(error.key == key, sourceLocation: sourceLocation)
        #expect(error.description.contains(key), sourceLocation: sourceLocation)
        #expect(error.description.contains("offset \(offset)"), sourceLocation: sourceLocation)
        #expect(error.description.contains(volume) && error.description.contains(backup), sourceLocation: sourceLocation)
        #expect(error.hint != nil, sourceLocation: sourceLocation)
    }

    @Test("a flipped byte in a block object", arguments: CompressionMethod.allCases)
    func flippedByte(method: CompressionMethod) async throws {
        let (fixture, checksums) = try await Self.makeBackup(method)
        let offset = Int64(2 * Self.blockSize)
        let key = Self.key(fixture, checksums[offset])
        var object = try await fixture.store.get(key)
        object[object.startIndex + object.count / 2] ^= 0x20
        try await fixture.store.put(key, data: object)
        // lz4 and gzip catch it with their own checksums; `none` only through the SHA-512 name.
        await Self.expectFailure(
            fixture, codes: method == .none ? [.blockChecksumMismatch] : [.blockCorrupt, .blockChecksumMismatch],
            offset: offset, key: key)
    }

    /// The data is intact and its SHA-512 matches, but the LZ4 frame's own content checksum is
    /// damaged: Longhorn's restore checks that checksum and refuses the block, so verify must
    /// too, or the destroy gate would pass a backup the rebuilt cluster cannot restore.
    @Test("a block with intact data but a damaged LZ4 checksum fails, as Longhorn's restore does")
    func damagedFrameChecksum() async throws {
        let (fixture, checksums) = try await Self.makeBackup(.lz4)
        let offset = Int64(3 * Self.blockSize)
        let key = Self.key(fixture, checksums[offset])
        var object = try await fixture.store.get(key)
        object[object.endIndex - 1] ^= 0x01  // the frame's content checksum, after the data
        try await fixture.store.put(key, data: object)
        await Self.expectFailure(fixture, codes: [.blockCorrupt], offset: offset, key: key)
        let verify = await #expect(throws: BackupstoreError.self) { try await fixture.reader.verify(volume: Self.volume, backup: Self.backup) }
        #expect(verify?.code == .blockCorrupt)
    }

    @Test("a block object far larger than a block is refused, not read whole")
    func oversizedBlock() async throws {
        let (fixture, checksums) = try await Self.makeBackup(.lz4)
        let key = Self.key(fixture, checksums[0])
        try await fixture.store.put(key, data: Data(count: Self.blockSize * 4))
        await Self.expectFailure(fixture, codes: [.outputLimitExceeded], offset: 0, key: key)
    }

    @Test("a deleted block object")
    func deletedBlock() async throws {
        let (fixture, checksums) = try await Self.makeBackup(.lz4)
        let key = Self.key(fixture, checksums[0])
        try await fixture.store.delete(key)
        await Self.expectFailure(fixture, codes: [.blockMissing], offset: 0, key: key)
    }

    @Test("a truncated block object", arguments: CompressionMethod.allCases)
    func truncatedBlock(method: CompressionMethod) async throws {
        let (fixture, checksums) = try await Self.makeBackup(method)
        let offset = Int64(3 * Self.blockSize)
        let key = Self.key(fixture, checksums[offset])
        let object = try await fixture.store.get(key)
        try await fixture.store.put(key, data: object.prefix(object.count / 2))
        await Self.expectFailure(fixture, codes: [.blockTruncated], offset: offset, key: key)
    }

    @Test("a cfg padded far past what its volume needs is refused before it is parsed", arguments: ["volume", "backup"])
    func oversizedConfig(which: String) async throws {
        let (fixture, _) = try await Self.makeBackup(.lz4)
        let key =
            which == "volume"
            ? fixture.layout.volumeConfigKey(Self.volume)
            : fixture.layout.backupConfigKey(volume: Self.volume, backup: Self.backup)
        // Trailing whitespace keeps it valid JSON: only the size cap can refuse it.
        try await fixture.store.put(key, data: try await fixture.store.get(key) + Data(repeating: 0x20, count: 2 << 20))
        let error = await #expect(throws: BackupstoreError.self) {
            try await fixture.reader.verify(volume: Self.volume, backup: Self.backup)
        }
        #expect(error?.code == .outputLimitExceeded, "\(String(describing: error))")
        #expect(error?.description.contains(key) == true)
    }

    @Test("a cfg that lists a block the store does not have")
    func unlistedBlock() async throws {
        let (fixture, _) = try await Self.makeBackup(.lz4)
        var config = try await fixture.reader.backupConfig(volume: Self.volume, backup: Self.backup)
        let ghost = BackupstoreLayout.checksum(of: Array("never uploaded".utf8))
        let offset = Int64(Self.blockSize)
        config.blocks.insert(BlockMapping(offset: offset, blockChecksum: ghost), at: 1)
        let cfgKey = fixture.layout.backupConfigKey(volume: Self.volume, backup: Self.backup)
        try await fixture.store.put(cfgKey, data: config.backupstoreJSON())
        await Self.expectFailure(fixture, codes: [.blockMissing], offset: offset, key: Self.key(fixture, ghost))
    }

    @Test("a block object that holds another block's data")
    func swappedBlock() async throws {
        let (fixture, checksums) = try await Self.makeBackup(.lz4)
        let target = Self.key(fixture, checksums[0])
        try await fixture.store.put(target, data: try await fixture.store.get(Self.key(fixture, checksums[Int64(2 * Self.blockSize)])))
        await Self.expectFailure(fixture, codes: [.blockChecksumMismatch], offset: 0, key: target)
    }

    @Test("a block stored with the other method still restores, as in Longhorn, and is counted")
    func otherMethod() async throws {
        let (fixture, checksums) = try await Self.makeBackup(.lz4)
        let key = Self.key(fixture, checksums[0])
        let plain = try CompressionMethod.lz4.decompress(try await fixture.store.get(key), maxSize: Self.blockSize)
        try await fixture.store.put(key, data: Data(try CompressionMethod.gzip.compress(plain)))
        let result = try await fixture.reader.verify(volume: Self.volume, backup: Self.backup)
        #expect(result.blocksVerified == 3)
        #expect(result.blocksInOtherMethod == 1)
    }

    @Test("a block object that decompresses to the wrong size")
    func wrongSize() async throws {
        let (fixture, checksums) = try await Self.makeBackup(.lz4)
        let key = Self.key(fixture, checksums[0])
        try await fixture.store.put(key, data: Data(LZ4Frame.compress(TestData.text(Self.blockSize + 1, seed: 1))))
        await Self.expectFailure(fixture, codes: [.blockCorrupt], offset: 0, key: key)
    }

    @Test("an in-progress backup is refused; damaged cfg entries are refused before any fetch")
    func cfgProblems() async throws {
        let (fixture, _) = try await Self.makeBackup(.lz4)
        let cfgKey = fixture.layout.backupConfigKey(volume: Self.volume, backup: Self.backup)
        let good = try await fixture.reader.backupConfig(volume: Self.volume, backup: Self.backup)

        var inProgress = good
        inProgress.createdTime = ""
        try await fixture.store.put(cfgKey, data: inProgress.backupstoreJSON())
        let progressError = await #expect(throws: BackupstoreError.self) {
            try await fixture.reader.verify(volume: Self.volume, backup: Self.backup)
        }
        #expect(progressError?.code == .backupInProgress)

        for damage in [
            BlockMapping(offset: 0, blockChecksum: "../../../../etc/passwd"),
            BlockMapping(offset: 5, blockChecksum: String(repeating: "a", count: 64)),
            BlockMapping(offset: -65536, blockChecksum: String(repeating: "a", count: 64)),
            BlockMapping(offset: 65536 * 2, blockChecksum: String(repeating: "a", count: 64)),  // duplicate offset
        ] {
            var broken = good
            broken.blocks.append(damage)
            try await fixture.store.put(cfgKey, data: broken.backupstoreJSON())
            let error = await #expect(throws: BackupstoreError.self, "\(damage)") {
                try await fixture.reader.verify(volume: Self.volume, backup: Self.backup)
            }
            #expect(error?.code == .invalidConfig, "\(damage)")
        }
    }
}
