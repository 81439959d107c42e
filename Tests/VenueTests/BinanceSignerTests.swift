import Foundation
import Testing
import TradingDomain
import Binance
import TestSupport

@Suite struct BinanceSignerTests {
    @Test func signatureMatchesBinanceDocumentationExample() {
        let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
        let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        let expected = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        #expect(BinanceSigner.signature(of: payload, secret: secret) == expected)
        #expect(BinanceCredentials(apiKey: "k", secret: secret).signature(of: payload) == expected)
    }

    @Test func parametersArePercentEncodedInOrder() {
        let encoded = BinanceSigner.encode([("symbols", #"["BTCUSDT","ETHUSDT"]"#), ("quantity", "0.05"), ("id", "tj-1-en0_a1~")])
        #expect(encoded == "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D&quantity=0.05&id=tj-1-en0_a1~")
    }

    @Test func decimalsAreParsedExactlyAndWrittenPlain() {
        #expect(BinanceDecimal.parse("0.00100000") == Quantity("0.001"))
        #expect(BinanceDecimal.parse("-12.5") == Money("-12.5"))
        #expect(BinanceDecimal.parse("1e-8", as: Price.self) == nil)
        #expect(BinanceDecimal.parse("1.5abc", as: Price.self) == nil)
        #expect(BinanceDecimal.parse("", as: Price.self) == nil)
        #expect(BinanceDecimal.parse("0.000000001", as: Price.self) == nil)  // more than 8 decimals
        #expect(BinanceDecimal.text(Price(raw: 1)) == "0.00000001")
        #expect(BinanceDecimal.text(Quantity("0.05000")!) == "0.05")
    }

    @Test func venueKeySeparatesProductionFromOtherHosts() {
        #expect(BinanceSettings().venueKey == "binance")
        #expect(BinanceSettings(baseURL: "https://api3.binance.com/").venueKey == "binance")
        #expect(BinanceSettings(baseURL: "https://testnet.binance.vision").venueKey == "binance@testnet.binance.vision")
        #expect(BinanceSettings(baseURL: "http://127.0.0.1:8080").venueKey == "binance@127.0.0.1:8080")
    }
}
