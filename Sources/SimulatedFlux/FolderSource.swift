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

/// Go's duration syntax as Flux's fields use it (`1h`, `2m30s`, `500ms`).
enum GoDuration {
    static func parse(_ text: String) -> Duration? {
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return .zero }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter || $0 == "µ" }
            rest = rest.dropFirst(unit.count)
            let seconds: Double
            switch unit {
            case "h": seconds = 3600
            case "m": seconds = 60
            case "s": seconds = 1
            case "ms": seconds = 0.001
            case "us", "µs": seconds = 0.000_001
            case "ns": seconds = 0.000_000_001
            default: return nil
            }
            total += value * seconds
        }
        return .milliseconds(Int64((total * 1000).rounded()))
    }
}
