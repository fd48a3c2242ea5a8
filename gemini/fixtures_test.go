package gemini_test

// Response examples copied from the wire contract,
// /work/shared/reference/gemini-api.md (section numbers in the names). They
// are kept verbatim, including which values are JSON strings and which JSON
// numbers.

const (
	// §1.4, §1.9
	fixInvalidNonce  = `{"result":"error","reason":"InvalidNonce","message":"Nonce '1490722675108' has not increased since your last call to the Gemini API."}`
	fixInvalidNonceT = `{"result":"error","reason":"InvalidNonce","message":"Nonce '1695066299324' is not within 30 seconds of server time '1695066301''"}`
	// §4
	fixRateLimit        = `{"result":"error","reason":"RateLimit","message":"Requests were made too frequently"}`
	fixTooManyRequests  = `{"result":"error","reason":"Too Many Requests","message":"Too Many Requests"}`
	fixMissingRoleShort = `{"result":"error","reason":"MissingRole","message":"To access this endpoint, you need to log in to the website and go to the settings page to assign one of these roles [FundManager] to API key wujB3szN54gtJ4QDhqRJ which currently has roles [Trader]"}`

	// §1.6
	fixRoles = `{ "isAuditor": false, "isFundManager": true, "isTrader": true }`

	// §2.1
	fixSymbols = `["btcusd","ethbtc","ethusd","zecusd","ltcusd","bchusd","btcgusdperp","ethgusdperp"]`

	// §2.2
	fixSymbolDetails = `{
  "symbol": "BTCUSD",
  "base_currency": "BTC",
  "quote_currency": "USD",
  "tick_size": 1E-8,
  "quote_increment": 0.01,
  "min_order_size": "0.00001",
  "status": "open",
  "wrap_enabled": false,
  "product_type": "spot",
  "contract_type": "vanilla",
  "contract_price_currency": "USD"
}`
	fixSymbolDetailsPerp = `{"symbol":"BTCETHPERP","base_currency":"BTC","quote_currency":"ETH","tick_size":0.0001,"quote_increment":0.5,"min_order_size":"0.0001","status":"open","wrap_enabled":false,"product_type":"swap","contract_type":"linear","contract_price_currency":"ETH"}`

	// §2.3
	fixNetwork = `{ "token": "BTC", "network": ["bitcoin"] }`

	// §2.4
	fixPubticker = `{
  "bid": "9345.70",
  "ask": "9347.67",
  "last": "9346.20",
  "volume": { "BTC": "1920.6", "USD": "17966474.43", "timestamp": 1483018200000 }
}`

	// §2.5 (the "..." element of the docs' elided list is kept: it is a string)
	fixTickerV2 = `{
  "symbol": "BTCUSD",
  "open": "9121.76",
  "high": "9440.66",
  "low": "9106.51",
  "close": "9347.66",
  "changes": ["9365.1","9386.16","9373.41","..."],
  "bid": "9345.70",
  "ask": "9347.67"
}`

	// §2.6
	fixBook = `{
  "bids": [ { "price": "3607.85", "amount": "6.643373", "timestamp": "1547147541" } ],
  "asks": [ { "price": "3607.86", "amount": "14.68205084", "timestamp": "1547147541" } ]
}`

	// §2.7
	fixTrades = `[
  { "timestamp": 1547146811, "timestampms": 1547146811357, "tid": 5335307668,
    "price": "3610.85", "amount": "0.27413495", "exchange": "gemini", "type": "buy" }
]`

	// §2.8
	fixCandles = `[[1559755800000, 7781.6, 7820.23, 7776.56, 7819.39, 34.7624802159],
 [1559755500000, 7779.94, 7790.0, 7770.0, 7781.6, 5.1]]`

	// §2.9
	fixPriceFeed = `[ { "pair": "BTCUSD", "price": "9500.00", "percentChange24h": "5.23" }, { "pair": "ETHUSD", "price": "257.16", "percentChange24h": "0.0000" } ]`

	// §2.10
	fixFeePromos = `{ "symbols": ["BTCGUSDPERP", "ETHGUSDPERP", "GUSDUSD"] }`

	// §3.1
	fixOrder = `{
  "order_id": "106817811",
  "id": "106817811",
  "symbol": "btcusd",
  "exchange": "gemini",
  "avg_execution_price": "3632.8508430064554",
  "side": "buy",
  "type": "exchange limit",
  "timestamp": "1547220404",
  "timestampms": 1547220404836,
  "is_live": true,
  "is_cancelled": false,
  "is_hidden": false,
  "was_forced": false,
  "executed_amount": "3.7567928949",
  "remaining_amount": "1.2432071051",
  "client_order_id": "20190110-4738721",
  "options": [],
  "price": "3633.00",
  "original_amount": "5"
}`

	// §3.4
	fixCancelAll = `{ "result": "ok", "details": { "cancelRejects": [], "cancelledOrders": [330429106, 330429079, 330429082] } }`

	// §3.8
	fixMyTrades = `[
  { "price": "3648.09", "amount": "0.0027343246", "timestamp": 1547232911, "timestampms": 1547232911021,
    "type": "Buy", "aggressor": true, "fee_currency": "USD", "fee_amount": "0.024937655575035",
    "tid": 107317526, "order_id": "107317524", "exchange": "gemini",
    "is_auction_fill": false, "is_clearing_fill": false, "symbol": "BTCUSD", "client_order_id": "..." }
]`

	// §3.9
	fixTradeVolume = `[[ { "symbol": "btcusd", "base_currency": "BTC", "notional_currency": "USD", "data_date": "2019-01-10",
     "total_volume_base": 8.06021756, "maker_buy_sell_ratio": 1,
     "buy_maker_base": 6.06021756, "buy_maker_notional": 23461.3515203844, "buy_maker_count": 34,
     "sell_maker_base": 0, "sell_maker_notional": 0, "sell_maker_count": 0,
     "buy_taker_base": 0, "buy_taker_notional": 0, "buy_taker_count": 0,
     "sell_taker_base": 2, "sell_taker_notional": 7935.66, "sell_taker_count": 2 } ]]`

	// §3.10
	fixNotionalVolume = `{
  "web_maker_fee_bps": 25, "web_taker_fee_bps": 35, "web_auction_fee_bps": 25,
  "api_maker_fee_bps": 10, "api_taker_fee_bps": 35, "api_auction_fee_bps": 20,
  "fix_maker_fee_bps": 10, "fix_taker_fee_bps": 35, "fix_auction_fee_bps": 20,
  "block_maker_fee_bps": 0, "block_taker_fee_bps": 50,
  "notional_30d_volume": 150.00,
  "last_updated_ms": 1551371446000,
  "date": "2019-02-28",
  "notional_1d_volume": [ { "date": "2019-02-22", "notional_volume": 75.00 } ]
}`

	// §3.11
	fixBalances = `[
  { "type": "exchange", "currency": "BTC", "amount": "1154.62034001", "available": "1129.10517279", "availableForWithdrawal": "1129.10517279" },
  { "type": "exchange", "currency": "USD", "amount": "18722.79", "available": "14481.62", "availableForWithdrawal": "14481.62" }
]`

	// §3.12
	fixNotionalBalances = `[ { "currency": "BTC", "amount": "1154.62034001", "amountNotional": "10386000.59",
    "available": "1129.10517279", "availableNotional": "10161000.71",
    "availableForWithdrawal": "1129.10517279", "availableForWithdrawalNotional": "10161000.71" } ]`

	// §3.13
	fixTransfers = `[
  { "type": "Deposit", "status": "Advanced", "timestampms": 1507913541275, "eid": 320013281,
    "currency": "USD", "amount": "36.00", "method": "ACH" },
  { "type": "Deposit", "status": "Complete", "timestampms": 1499990797452, "eid": 309356152,
    "currency": "ETH", "amount": "100",
    "txHash": "605c5fa8bf99458d24d61e09941bc443ddc44839d9aaa508b14b296c0c8269b2" },
  { "type": "Withdrawal", "status": "Complete", "timestampms": 1501180292445, "eid": 313310093,
    "currency": "BTC", "amount": "0.2", "txHash": "...", "destination": "...", "withdrawalId": "...",
    "feeAmount": "0.0001", "feeCurrency": "BTC" }
]`

	// §3.15
	fixAddresses = `[ { "address": "n2saq73aDTu42bRgEHd8gd4to1gCzHxrdj", "timestamp": 1424285102000, "label": "my bitcoin address" } ]`

	// §3.16, current and older forms
	fixNewAddress    = `{ "network": "bitcoin", "address": "n2saq73aDTu42bRgEHd8gd4to1gCzHxrdj", "label": "my bitcoin address" }`
	fixNewAddressOld = `{"currency":"BTC","address":"n2saq73aDTu42bRgEHd8gd4to1gCzHxrdj","label":"my bitcoin address"}`

	// §3.17, and the older ETH and GUSD-to-bank forms
	fixWithdraw = `{
  "address": "mi98Z9brJ3TgaKsmvXatuRahbFRUFKRUdR",
  "amount": "1",
  "fee": "0",
  "withdrawalId": "02176a83-a6b1-4202-9b85-1c1c92dd25c4",
  "message": "You have requested a transfer of 1 BTC to mi98Z9brJ3TgaKsmvXatuRahbFRUFKRUdR. This withdrawal will be sent to the blockchain within the next 60 seconds."
}`
	fixWithdrawETH  = `{"address":"0xA63123350Acc8F5ee1b1fBd1A6717135e82dBd28","amount":"2.34567","txHash":"0x28267179f92926d85c5516bqc063b2631935573d8915258e95d9572eedcc8cc"}`
	fixWithdrawGUSD = `{"destination":"...","amount":"500","txHash":"..."}`

	// §3.18
	fixPaymentMethods = `{ "balances": [ { "type": "exchange", "currency": "USD", "amount": "50893484.26", "available": "50889410.26", "availableForWithdrawal": "50889410.26" } ],
  "banks": [ { "bank": "Jpmorgan Chase Bank Checking  - 1111", "bankId": "97631a24-ca40-4277-b3d5-38c37673d029" } ] }`

	// §3.19
	fixApprovedRequest = `{"message":"Approved address addition is now waiting a 7-day approval hold before activation."}`
	fixApprovedList    = `{"approvedAddresses":[{"network":"ethereum","scope":"account","label":"my address","status":"active","createdAt":"1602692572349","address":"0x..."}]}`

	// §3.20
	fixAccount         = `{"account":{"accountName":"Primary","shortName":"primary","type":"exchange","created":"1498245007981"},"users":[{"name":"...","lastSignIn":"2020-07-21T13:37:39.453Z","status":"Enabled","countryCode":"US","isVerified":true}],"memo_reference_code":"GEMPJBRDZ","virtual_account_number":"..."}`
	fixAccountCreate   = `{"account":"my-secondary-account","type":"exchange"}`
	fixAccountList     = `[{"name":"Primary","account":"primary","type":"exchange","counterparty_id":"EMONNYXH","created":1495127793000,"status":"open"}]`
	fixAccountTransfer = `{"fromAccount":"my-account","toAccount":"my-other-account","amount":"1","fee":"0","currency":"Bitcoin","withdrawalId":"...","uuid":"...","message":"Success, transfer completed.","txHash":"..."}`

	// §1.7
	fixOK = `{"result":"ok"}`
)
