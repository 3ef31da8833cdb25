import Foundation
import Synchronization
import Testing

@testable import Backupstore

/// A backup store in a temporary directory with a writer and a reader over it.
struct StoreFixture {
    let directory: TemporaryDirectory
    let store: FileSystemObjectStore
    let layout = BackupstoreLayout(targetURL: "s3://bucket@us-east-1/drills/")
    let writer: BackupWriter
    let reader: BackupReader
    static let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z

    init() throws {
        directory = try TemporaryDirectory()
        store = FileSystemObjectStore(root: directory.url.appendingPathComponent("store"))
        writer = BackupWriter(store: store, layout: layout)
        reader = BackupReader(store: store, layout: layout)
    }

    /// Writes an image whose blocks are `blocks` (nil = a hole of zeros) and returns its path.
    func image(_ name: String, blocks: [[UInt8]?], blockSize: Int) throws -> URL {
        let url = directory.file(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        for (index, block) in blocks.enumerated() {
            guard let block else { continue }
            precondition(block.count == blockSize)
            try handle.seek(toOffset: UInt64(index * blockSize))
            try handle.write(contentsOf: block)
        }
        try handle.truncate(atOffset: UInt64(blocks.count * blockSize))
        return url
    }

    func contents(_ url: URL) throws -> Data { try Data(contentsOf: url) }
}

/// Counts progress callbacks (they are `@Sendable`, so the count lives behind a lock).
final class ProgressLog: Sendable {
    private let calls = Mutex<[BackupReader.Progress]>([])
    var all: [BackupReader.Progress] { calls.withLock { $0 } }
    func record(_ progress: BackupReader.Progress) { calls.withLock { $0.append(progress) } }
}

@Suite("Writer and reader round trips")
struct BackupRoundTripTests {
    static let mebibyte = 1024 * 1024

    @Test("multi-block image with holes and a duplicate block, 2 MiB blocks", arguments: CompressionMethod.allCases)
    func roundTrip(method: CompressionMethod) async throws {
        let fixture = try StoreFixture()
        let blockSize = 2 * Self.mebibyte
        let text = TestData.text(blockSize, seed: 41)
        let random = TestData.random(blockSize, seed: 42)
        let image = try fixture.image("vol.img", blocks: [text, nil, random, text], blockSize: blockSize)

        let written = try await fixture.writer.backup(
            imageAt: image, volumeName: "pvc-rt", backupName: "backup-1",
            options: .init(compression: method), now: StoreFixture.now)
        #expect(written.blocksListed == 3)
        #expect(written.blocksUploaded == 2)  // the repeated block is stored once
        #expect(written.compression == method)
        #expect(written.config.blocks.map(\.offset) == [0, 2 * Int64(blockSize), 3 * Int64(blockSize)])
        #expect(written.config.size == 3 * Int64(blockSize))
        #expect(written.config.createdTime == "2027-01-15T08:00:00Z")
        #expect(written.config.parameters?["backup-block-size"] == "2097152")
        #expect(!written.config.isIncremental)

        // Block objects sit where Longhorn puts them and start with the method's magic.
        let key = fixture.layout.blockKey(volume: "pvc-rt", checksum: BackupstoreLayout.checksum(of: text))
        #expect(key.hasPrefix("drills/backupstore/volumes/"))
        let stored = Array(try await fixture.store.get(key))
        switch method {
        case .lz4: #expect(Array(stored.prefix(6)) == [0x04, 0x22, 0x4D, 0x18, 0x64, 0x70])
        case .gzip: #expect(Array(stored.prefix(2)) == [0x1F, 0x8B])
        case .none: #expect(stored == text)
        }

        let volume = try await fixture.reader.volumeConfig("pvc-rt")
        #expect(volume.compressionMethod == method)
        #expect(volume.lastBackupName == "backup-1")
        #expect(volume.lastBackupAt == "2027-01-15T08:00:00Z")
        #expect(volume.blockCount == 2)
        #expect(volume.size == 4 * Int64(blockSize))

        let log = ProgressLog()
        let output = fixture.directory.file("restored.img")
        let result = try await fixture.reader.restore(
            volume: "pvc-rt", backup: "backup-1", to: output, parallelism: 2, progress: { log.record($0) })
        #expect(result.blocksVerified == 3)
        #expect(result.bytesVerified == 3 * Int64(blockSize))
        #expect(result.outputSize == 4 * Int64(blockSize))
        #expect(result.compressedBytes > 0)
        #expect(log.all.count == 3)
        #expect(log.all.last?.blocksDone == 3)
        #expect(try fixture.contents(output) == fixture.contents(image))
    }

    @Test("16 MiB blocks: the block size comes from the cfg's backup-block-size parameter")
    func sixteenMiB() async throws {
        let fixture = try StoreFixture()
        let blockSize = 16 * Self.mebibyte
        let image = try fixture.image("big.img", blocks: [TestData.runs(blockSize), nil], blockSize: blockSize)
        let written = try await fixture.writer.backup(
            imageAt: image, volumeName: "pvc-16", backupName: "backup-16",
            options: .init(blockSize: blockSize, compression: .lz4), now: StoreFixture.now)
        #expect(written.config.parameters?["backup-block-size"] == "16777216")
        #expect(written.blocksListed == 1)
        let config = try await fixture.reader.backupConfig(volume: "pvc-16", backup: "backup-16")
        #expect(try config.blockSize() == Int64(blockSize))
        let output = fixture.directory.file("big.restored")
        let result = try await fixture.reader.restore(volume: "pvc-16", backup: "backup-16", to: output)
        #expect(result.blockSize == blockSize)
        #expect(result.blocksVerified == 1)
        #expect(try fixture.contents(output) == fixture.contents(image))
        // A restored image is the volume's data: readable by its owner only (umask or not).
        let mode = (try FileManager.default.attributesOfItem(atPath: output.path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
    }

    @Test("second backup is incremental: dedupes unchanged blocks and keeps the volume's method")
    func incremental() async throws {
        let fixture = try StoreFixture()
        let blockSize = 64 * 1024
        var blocks: [[UInt8]?] = (0..<6).map { TestData.text(blockSize, seed: 50 + UInt64($0)) }
        blocks[3] = nil
        let first = try fixture.image("v1.img", blocks: blocks, blockSize: blockSize)
        let one = try await fixture.writer.backup(
            imageAt: first, volumeName: "pvc-inc", backupName: "backup-a",
            options: .init(blockSize: blockSize, compression: .gzip), now: StoreFixture.now)
        #expect(one.blocksUploaded == 5)

        blocks[2] = TestData.random(blockSize, seed: 77)
        blocks[4] = nil
        let second = try fixture.image("v2.img", blocks: blocks, blockSize: blockSize)
        let later = StoreFixture.now.addingTimeInterval(3600)
        let two = try await fixture.writer.backup(
            imageAt: second, volumeName: "pvc-inc", backupName: "backup-b",
            options: .init(blockSize: blockSize, compression: .none), now: later)
        #expect(two.blocksUploaded == 1)
        #expect(two.blocksListed == 4)
        #expect(two.compression == .gzip)  // fixed by the first backup, as in Longhorn
        #expect(two.config.isIncremental)
        #expect(!one.config.isIncremental)

        let volume = try await fixture.reader.volumeConfig("pvc-inc")
        #expect(volume.lastBackupName == "backup-b")
        #expect(volume.lastBackupAt == "2027-01-15T09:00:00Z")
        #expect(volume.createdTime == "2027-01-15T08:00:00Z")  // volume.cfg is created once
        #expect(volume.blockCount == 6)
        #expect(try await fixture.reader.listBackups(volume: "pvc-inc") == ["backup-a", "backup-b"])

        for (backup, image) in [("backup-a", first), ("backup-b", second)] {
            let output = fixture.directory.file("\(backup).restored")
            _ = try await fixture.reader.restore(volume: "pvc-inc", backup: backup, to: output)
            #expect(try fixture.contents(output) == fixture.contents(image), "\(backup)")
        }
    }

    @Test("a missing volume or backup is notFound with a hint")
    func missing() async throws {
        let fixture = try StoreFixture()
        let volume = await #expect(throws: BackupstoreError.self) { try await fixture.reader.volumeConfig("nope") }
        #expect(volume?.code == .notFound)
        #expect(volume?.hint != nil)
        let backup = await #expect(throws: BackupstoreError.self) {
            try await fixture.reader.verify(volume: "nope", backup: "b")
        }
        #expect(backup?.code == .notFound)
    }
}
