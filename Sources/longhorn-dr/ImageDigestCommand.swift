import ArgumentParser
import Backupstore
import DRCore
import Foundation

/// `longhorn-dr image-digest`: what a restored volume holds, as `assure --restore-test` compares
/// it with the backup's block list. The restore test's reader pod runs it on the scratch volume's
/// block device; it also works on an image file.
struct ImageDigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image-digest",
        abstract: "Print the digest of a volume image or block device: its non-zero blocks' SHA-512, per GiB and over all.",
        discussion: """
            Reads DEVICE from start to end in --block-size pieces, names each piece that is not all zeros by its \
            SHA-512 (as Longhorn names backup blocks) and prints one JSON line: the block size, the bytes read, the \
            number of data blocks, a digest per GiB of offsets and one over all. The same digest is made from a \
            backup's block list without reading the store, so equal digests mean the volume holds exactly the backup's data.
            """)

    @Argument(help: ArgumentHelp("The block device or image file to read.", valueName: "device"))
    var device: String

    @Option(help: "The backup's block size in bytes (Longhorn's default is 2 MiB).")
    var blockSize: Int64 = BackupConfig.defaultBlockSize

    func validate() throws {
        guard blockSize >= 4096, blockSize <= 1 << 30, blockSize % 4096 == 0 else {
            throw ValidationError("--block-size must be a multiple of 4096 between 4 KiB and 1 GiB; got \(blockSize)")
        }
    }

    struct Output: Encodable {
        var device: String
        var bytesRead: Int64
        var blockSize: Int64
        var dataBlocks: Int
        var digest: String
        var segments: [String: String]
    }

    func run() throws {
        let digest: ImageDigest
        let bytesRead: Int64
        do {
            (digest, bytesRead) = try ImageDigest.read(file: device, blockSize: blockSize) { Terminal.note("read \(ByteText.size($0))") }
        } catch {
            throw DRError(
                .infrastructure, subject: device, detail: error.detail,
                hint: "check that the volume is attached and readable by this user (block devices: group disk)")
        }
        let output = Output(
            device: device, bytesRead: bytesRead, blockSize: blockSize, dataBlocks: digest.dataBlocks,
            digest: digest.digest, segments: digest.segments)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(output), as: UTF8.self))
    }
}
