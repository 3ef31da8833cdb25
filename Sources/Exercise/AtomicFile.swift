import DRCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Replaces a file atomically, with its final mode from the first byte: a new file is created
/// with `O_CREAT|O_EXCL|O_NOFOLLOW` and `mode`, written, synced, then renamed over the target.
/// A reader never sees a partial file, and a secret never sits in a file others could open.
/// The one way this tool writes journals, reports, kubeconfigs and metrics.
public enum AtomicFile {
    /// - Parameter mode: 0600 for anything secret-bearing (the default); 0644 for public output.
    public static func write(_ data: Data, to url: URL, mode: mode_t = 0o600) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw DRError(
                .environment, subject: "file \(url.path)", detail: "cannot create \(temporary.path): \(String(cString: strerror(errno)))",
                hint: "check that \(folder.path) is writable")
        }
        var failure: String?
        // The umask may have narrowed the mode; the caller's mode is what the file must have.
        if fchmod(descriptor, mode) != 0 { failure = "chmod: \(String(cString: strerror(errno)))" }
        data.withUnsafeBytes { buffer in
            var offset = 0
            while failure == nil, offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = "write: \(String(cString: strerror(errno)))"
                } else {
                    offset += written
                }
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = "fsync: \(String(cString: strerror(errno)))" }
        close(descriptor)
        if failure == nil, rename(temporary.path, url.path) != 0 { failure = "cannot move the new file into place: \(String(cString: strerror(errno)))" }
        if let failure {
            unlink(temporary.path)
            throw DRError(.environment, subject: "file \(url.path)", detail: failure, hint: "check the folder \(folder.path) and the free space")
        }
    }
}
