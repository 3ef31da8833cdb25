import Foundation
import Testing

@testable import Backupstore

/// The reader decodes LZ4 blocks into reused arrays; reuse must never change what is verified or written.
@Suite("Reader block buffers")
struct BlockBuffersTests {
    @Test("decompress(into:) agrees with decompress(maxOutputSize:) on content, limits and errors")
    func decompressInto() throws {
        let input = TestData.text(100_000, seed: 41)
        let frame = LZ4Frame.compress(input, options: .init(blockSize: .max64KB))
        for room in [input.count, input.count + 1, input.count + 5000] {
            var buffer = [UInt8](repeating: 0xEE, count: room)
            let count = try buffer.withUnsafeMutableBytes { try LZ4Frame.decompress(frame, into: $0) }
            #expect(count == input.count)
            #expect(Array(buffer.prefix(count)) == input)
        }
        var small = [UInt8](repeating: 0, count: input.count - 1)
        let tooSmall = #expect(throws: BackupstoreError.self) {
            try small.withUnsafeMutableBytes { try LZ4Frame.decompress(frame, into: $0) }
        }
        #expect(tooSmall?.code == .outputLimitExceeded)
        var damaged = frame
        damaged[damaged.count - 1] ^= 0x10  // the content checksum
        var buffer = [UInt8](repeating: 0, count: input.count)
        let checksum = #expect(throws: BackupstoreError.self) {
            try buffer.withUnsafeMutableBytes { try LZ4Frame.decompress(damaged, into: $0) }
        }
        #expect(checksum?.code == .checksumMismatch)
        // An empty buffer holds only empty content.
        #expect(try LZ4Frame.decompress(LZ4Frame.compress([UInt8]()), into: UnsafeMutableRawBufferPointer(start: nil, count: 0)) == 0)
    }

    @Test("arrays are handed out again, at most `keep` are kept, and odd sizes are dropped")
    func reuse() {
        let buffers = BackupReader.BlockBuffers(blockSize: 4096, keep: 2)
        var first = buffers.take()
        #expect(first.count == 4096)
        let address = first.withUnsafeBufferPointer { $0.baseAddress }
        buffers.recycle(&first)
        #expect(first.isEmpty)
        let again = buffers.take()
        #expect(again.withUnsafeBufferPointer { $0.baseAddress } == address)

        // Three more out (none kept now), all three back: two are kept, the third and an odd size dropped.
        var arrays = (0..<3).map { _ in buffers.take() }
        let returned = Set(arrays.compactMap { $0.withUnsafeBufferPointer { $0.baseAddress } })
        #expect(returned.count == 3)
        for index in arrays.indices { buffers.recycle(&arrays[index]) }
        var short = [UInt8](repeating: 0, count: 100)
        buffers.recycle(&short)
        let reused = [buffers.take(), buffers.take()]
        #expect(reused.allSatisfy { $0.count == 4096 })
        #expect(reused.allSatisfy { returned.contains($0.withUnsafeBufferPointer { $0.baseAddress }!) })
        #expect(buffers.take().count == 4096)
        _ = again
    }

    @Test("a failed decode gives its array back; a short block is reported with its real size")
    func failuresAndShortBlocks() throws {
        let blockSize = 64 * 1024
        let buffers = BackupReader.BlockBuffers(blockSize: blockSize, keep: 1)
        let garbage = Data([0x04, 0x22, 0x4D, 0x18, 0xFF])
        #expect(throws: BackupstoreError.self) {
            try BackupReader.decode(garbage, method: .lz4, blockSize: blockSize, buffers: buffers)
        }
        var held = buffers.take()
        let address = held.withUnsafeBufferPointer { $0.baseAddress }
        buffers.recycle(&held)

        let short = TestData.text(blockSize - 10, seed: 42)
        let decoded = try BackupReader.decode(
            Data(LZ4Frame.compress(short)), method: .lz4, blockSize: blockSize, buffers: buffers)
        #expect(decoded == short)
        #expect(decoded.withUnsafeBufferPointer { $0.baseAddress } == address)
        // Other methods do not use the buffers.
        let gzip = try CompressionMethod.gzip.compress(short)
        #expect(try BackupReader.decode(Data(gzip), method: .gzip, blockSize: blockSize, buffers: buffers) == short)
    }

    @Test("a block that decompresses to less than the block size fails as truncated, naming its size")
    func shortBlockInBackup() async throws {
        let (fixture, checksums) = try await BackupCorruptionTests.makeBackup(.lz4)
        let key = BackupCorruptionTests.key(fixture, checksums[0])
        let size = BackupCorruptionTests.blockSize - 1
        try await fixture.store.put(key, data: Data(LZ4Frame.compress(TestData.text(size, seed: 43))))
        await BackupCorruptionTests.expectFailure(fixture, codes: [.blockTruncated], offset: 0, key: key)
        let error = await #expect(throws: BackupstoreError.self) {
            try await fixture.reader.verify(
                volume: BackupCorruptionTests.volume, backup: BackupCorruptionTests.backup, parallelism: 2)
        }
        #expect(error?.detail.contains("holds \(size) bytes") == true)
    }

    @Test("restoring with many blocks in flight reuses arrays and writes every block right", arguments: [1, 2, 5])
    func restoreWithReuse(parallelism: Int) async throws {
        let fixture = try StoreFixture()
        let blockSize = 64 * 1024
        // Text and random (stored uncompressed in the frame) blocks, and holes.
        var blocks: [[UInt8]?] = []
        for index in 0..<12 {
            if index % 5 == 4 {
                blocks.append(nil)
            } else if index % 2 == 0 {
                blocks.append(TestData.text(blockSize, seed: UInt64(index)))
            } else {
                blocks.append(TestData.random(blockSize, seed: UInt64(index)))
            }
        }
        let image = try fixture.image("many", blocks: blocks, blockSize: blockSize)
        _ = try await fixture.writer.backup(
            imageAt: image, volumeName: "pvc-reuse", backupName: "b1", options: .init(blockSize: blockSize),
            now: StoreFixture.now)
        let output = fixture.directory.file("restored-\(parallelism)")
        let result = try await fixture.reader.restore(
            volume: "pvc-reuse", backup: "b1", to: output, parallelism: parallelism)
        #expect(result.blocksVerified == 10)
        #expect(try Data(contentsOf: output) == Data(contentsOf: image))
    }
}
