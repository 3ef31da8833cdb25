import Foundation

/// Which endpoints this tool sends data to: https anywhere, plain http only to this machine.
public enum EndpointPolicy {
    /// Nil when `url` may be used; otherwise why not, in words that do not repeat the URL.
    public static func cleartextRefusal(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host,
            !host.isEmpty
        else { return "is not a URL" }
        if scheme == "https" { return nil }
        guard scheme == "http" else { return "is not an http(s) URL" }
        return isLoopback(host) ? nil
            : "uses http:// to another machine: what is sent, and any token in the URL, would cross the network in clear text (use https://)"
    }

    /// localhost, 127.0.0.0/8 or ::1.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }
}
