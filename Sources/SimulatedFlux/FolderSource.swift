import Crypto
import Foundation

/// A local folder standing in for a Git repository: its revision is a hash of every file's path
/// and content, so any change to the folder is a new revision, as a new commit would be.
struct FolderSource: Sendable {
    let folder: URL

    /// `local@sha256:<hex>` (Flux writes `<branch>@sha1:<commit>` for Git).
    func revision() throws -> String {
        var hasher = SHA256()
        let root = folder.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: root])
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative == ".git" || relative.hasPrefix(".git/") { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue { files.append(relative) }
        }
        for relative in files.sorted() {
            hasher.update(data: Data(relative.utf8))
            hasher.update(data: Data([0]))
            hasher.update(data: try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative)))
            hasher.update(data: Data([0]))
        }
        return "local@sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
