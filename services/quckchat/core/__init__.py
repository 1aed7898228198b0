"""The one service framework every QuckChat service is built on."""
