import ClusterExercise
import Crypto
import DRCore
import Foundation

/// Copies one file out of an ext4 image with e2fsprogs' `debugfs` and hashes it.
///
/// `debugfs` is run directly with an argument array, never through a shell; the path reaches it
/// only inside its own `-R` request, quoted, and paths that could break out of the quotes are refused.
/// `debugfs` exits 0 even when the file is missing, so success is judged by the output file.
struct Ext4FileExtractor {
    struct Extracted: Sendable {
        var path: String
        var size: Int64
        var sha256: String
    }

    /// `debugfs`, looked up on PATH and in the sbin folders Debian installs it to.
    static func locateDebugfs() throws -> String {
        if let path = ToolLocator.locate("debugfs") { return path }
        throw DRError(.environment, subject: "debugfs", detail: "e2fsprogs' debugfs is not installed",
            hint: "install e2fsprogs (Debian: apt-get install e2fsprogs), or leave out --file")
    }

    /// Refuses paths that `debugfs`' request parser would read differently from the user.
    static func validate(_ path: String) throws {
        guard !path.isEmpty, !path.contains("\""), !path.contains("\n"), !path.contains("\r"), !path.contains("\0") else {
            throw DRError(.usage, subject: "--file \(path)", detail: "the path is empty or contains a quote or line break",
                hint: "give the file's path inside the volume's filesystem, e.g. /sentinel.txt")
        }
    }

    /// Extracts `path` from `image` into `folder` and returns its size and SHA-256.
    /// - Throws: `DRError` `.verificationFailed` when the file is not in the image (or the image is not ext4).
    static func extract(path: String, from image: URL, into folder: URL) async throws -> Extracted {
        try validate(path)
        let debugfs = try locateDebugfs()
        let inside = path.hasPrefix("/") ? path : "/" + path
        let output = folder.appendingPathComponent("extracted-file")
        try? FileManager.default.removeItem(at: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: debugfs)
        process.arguments = ["-R", "dump \"\(inside)\" \"\(output.path)\"", image.path]
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw DRError(.environment, subject: "debugfs", detail: "cannot start \(debugfs): \(error)")
        }
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // The first line is debugfs' version banner; the rest are its complaints.
        let complaints = String(decoding: stderr, as: UTF8.self).split(separator: "\n")
            .filter { !$0.hasPrefix("debugfs ") }.joined(separator: "; ")
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: output.path) else {
            throw DRError(.verificationFailed, subject: "file \(inside) in the restored image",
                detail: "debugfs could not extract it" + (complaints.isEmpty ? "" : ": \(complaints)"),
                hint: "check the path (it is inside the volume's ext4 filesystem, e.g. /sentinel.txt) and that the volume holds ext4")
        }
        let (size, digest) = try sha256(of: output)
        return Extracted(path: inside, size: size, sha256: digest)
    }

    /// SHA-256 of a file, read in 1 MiB pieces.
    static func sha256(of file: URL) throws -> (Int64, String) {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (size, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }
}
