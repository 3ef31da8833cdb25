import Delivery
import Foundation
import Testing

@Suite struct DiscordMessageTests {
    /// The limits Discord enforces with HTTP 400: title 256, description 4096, 25 fields, field
    /// name 256, value 1024, 6000 characters in all.
    @Test func aMessageOverDiscordsLimitsIsCutToThem() throws {
        let fields = (1...40).map { DiscordMessage.Field("FAIL volume-\($0) " + String(repeating: "n", count: 300), String(repeating: "v", count: 2000)) }
        let message = DiscordMessage(
            title: String(repeating: "t", count: 400), description: String(repeating: "d", count: 5000), colour: .fail, fields: fields, at: Date())
        let embed = try #require(message.embeds.first)
        #expect(embed.title.count == 256 && embed.title.hasSuffix("…"))
        #expect(embed.description.count <= 4096)
        #expect(embed.fields.count <= 25)
        #expect(embed.fields.allSatisfy { $0.name.count <= 256 && $0.value.count <= 1024 })
        let total = embed.title.count + embed.description.count + embed.fields.reduce(0) { $0 + $1.name.count + $1.value.count }
        #expect(total <= 6000, "\(total)")
        #expect(embed.fields.first?.name.hasPrefix("FAIL volume-1 ") == true, "the first fields are kept")
    }

    @Test func anEmptyFieldValueIsADash() throws {
        // Discord refuses an empty field value.
        let message = DiscordMessage(title: "t", description: "d", colour: .pass, fields: [.init("Report", "")], at: Date())
        #expect(message.embeds.first?.fields.first?.value == "-")
    }
}
