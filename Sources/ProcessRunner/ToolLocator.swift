import Foundation

/// Finds a command the way a shell does: a name with a `/` is a path (relative to the current
/// folder), a bare name is searched on `PATH` (an empty entry is the current folder), then in
/// `alsoIn`: by default the sbin folders where e2fsprogs' debugfs lives but which a user's PATH
/// often lacks. The one tool lookup of the project.
public enum ToolLocator {
    public static let systemFolders = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    /// - Parameters:
    ///   - path: the `PATH` to search (default: this process's).
    ///   - currentDirectory: what relative paths and empty `PATH` entries mean (default: this
    ///     process's current folder).
    public static func locate(
        _ command: String, path: String? = nil, currentDirectory: String? = nil, alsoIn extra: [String] = systemFolders
    ) -> String? {
        guard !command.isEmpty else { return nil }
        let here = currentDirectory ?? FileManager.default.currentDirectoryPath
        if command.contains("/") {
            let candidate = command.hasPrefix("/") ? command : (here as NSString).appendingPathComponent(command)
            return isExecutableFile(candidate) ? candidate : nil
        }
        let searched = (path ?? ProcessInfo.processInfo.environment["PATH"] ?? "")
            .split(separator: ":", omittingEmptySubsequences: false).map { $0.isEmpty ? here : String($0) }
        for folder in searched + extra {
            let candidate = (folder as NSString).appendingPathComponent(command)
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    /// An executable regular file (a folder with the x bit is not a command).
    static func isExecutableFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }
}
