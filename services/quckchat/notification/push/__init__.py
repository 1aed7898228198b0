"""Push to devices: one `PushSender` per platform (FCM, APNs, Web Push), one interface."""
