"""Live rooms: store rooms and broadcasts, providers (Channels live first), the portal's own live
figures from ingested events, the share leaderboard, lotteries, reminders and post-live coupons."""
